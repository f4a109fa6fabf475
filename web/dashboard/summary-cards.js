// The summary cards at the top of the overview: servers by state, space, and namespace counts.
/* global document */
import { setAttr, setText } from './dom.js';
import { countByState, fullnessLevel, usedFraction } from './servers.js';
import { formatBytes, formatCount, formatPercent } from './format.js';

function stat(name) {
  return document.querySelector(`[data-stat="${name}"]`);
}

function card(name) {
  return document.querySelector(`[data-card="${name}"]`);
}

/** Fills the cards from one /api/status answer. */
export function renderSummary(status) {
  const servers = Array.isArray(status.servers) ? status.servers : [];
  const counts = countByState(servers);
  const draining = counts.draining + counts.drained;
  setText(stat('serversAlive'), formatCount(counts.alive));
  setText(stat('serversDead'), formatCount(counts.dead));
  setText(stat('serversDraining'), formatCount(draining));
  setText(stat('serversDrained'), counts.drained > 0 ? `${formatCount(counts.drained)} drained` : '');
  setAttr(card('dead'), 'data-level', counts.dead > 0 ? 'bad' : null);
  setAttr(card('draining'), 'data-level', counts.draining > 0 ? 'warn' : null);
  setAttr(card('alive'), 'data-level', servers.length > 0 && counts.alive === 0 ? 'bad' : null);

  const fraction = usedFraction(status.usedBytes, status.capacityBytes);
  setText(stat('capacity'), formatBytes(status.capacityBytes));
  setText(stat('used'), formatBytes(status.usedBytes));
  setText(stat('usedPercent'), Number.isNaN(fraction) ? '' : `${formatPercent(fraction)} used`);
  setAttr(stat('used').closest('.card'), 'data-level', fullnessLevel(fraction));
  setText(stat('free'), formatBytes(status.freeBytes));

  setText(stat('files'), formatCount(status.files));
  setText(stat('logical'), typeof status.logicalBytes === 'number' ? `${formatBytes(status.logicalBytes)} of data` : '');
  setText(stat('directories'), formatCount(status.directories));
  setText(stat('chunks'), formatCount(status.chunks));
  setText(stat('replication'), typeof status.defaultReplication === 'number' ? `goal: ${status.defaultReplication} copies` : '');
}
