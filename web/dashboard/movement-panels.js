// The two panels about chunks moving between servers: re-replication (copies made to restore
// redundancy) and rebalance (chunks moved to even out disk use).
import { byId, fillStats, setAttr, setBar, setText } from './dom.js';
import { DASH, formatBytes, formatCount, formatPercent } from './format.js';

/** Fills the re-replication panel. */
export function renderReplication(status) {
  const replication = status.replication ?? {};
  fillStats(byId('replication-stats'), {
    queued: formatCount(replication.queued),
    inFlight: formatCount(replication.inFlight),
    copied: formatCount(replication.copied),
    bytesCopied: formatBytes(replication.bytesCopied),
    failed: { text: formatCount(replication.failed), level: replication.failed > 0 ? 'warn' : null },
  });
}

/** "1.2 GiB of 4.0 GiB moved (30.0 %)", or a plain word when there is nothing to move. */
function progressText(rebalance) {
  const { bytesMoved, bytesToMove } = rebalance;
  if (!(bytesToMove > 0)) return bytesMoved > 0 ? `${formatBytes(bytesMoved)} moved` : 'Nothing to move.';
  return `${formatBytes(bytesMoved)} of ${formatBytes(bytesToMove)} moved (${formatPercent(bytesMoved / bytesToMove)})`;
}

/** Fills the rebalance panel. */
export function renderRebalance(status) {
  const rebalance = status.rebalance ?? {};
  const state = typeof rebalance.state === 'string' && rebalance.state !== '' ? rebalance.state : DASH;
  const badge = byId('rebalance-state');
  setText(badge, state);
  setAttr(badge, 'data-badge', state);

  const fraction = rebalance.bytesToMove > 0 ? rebalance.bytesMoved / rebalance.bytesToMove : 0;
  setBar(byId('rebalance-bar'), fraction);
  setText(byId('rebalance-progress'), progressText(rebalance));

  const over = rebalance.maxDeviation > rebalance.threshold;
  fillStats(byId('rebalance-stats'), {
    moved: formatCount(rebalance.moved),
    inFlight: formatCount(rebalance.inFlight),
    deviation: {
      text: `${formatPercent(rebalance.maxDeviation)} (threshold ${formatPercent(rebalance.threshold, 0)})`,
      level: over ? 'warn' : null,
    },
  });
}
