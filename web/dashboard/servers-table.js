// The chunkserver table. Rows are keyed by address and updated in place on every poll, so the
// table neither flickers nor loses the reader's place. Each row carries `data-server` (the
// address) and `data-state` (the master's raw state), which tests rely on.
import { byId, h, setAttr, setBar, setText, show } from './dom.js';
import { displayStateOf, fullnessLevel, usedFraction } from './servers.js';
import { DASH, formatAge, formatByteRate, formatBytes, formatCount, formatPercent, formatRate } from './format.js';

/** Builds the cells of a new row once; `fillRow` updates their contents. */
function createRow(address) {
  const cell = (label, className, ...children) => h('td', { class: className, dataset: { label } }, ...children);
  const bar = h('div', {
    class: 'bar',
    attrs: { role: 'meter', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-label': `Space used on ${address}` },
  }, h('span', { class: 'bar-fill' }));
  const parts = {
    badge: h('span', { class: 'badge' }),
    rack: cell('Rack', ''),
    bar,
    space: h('span', { class: 'space-text' }),
    chunks: cell('Chunks', 'num'),
    load: cell('Load', 'num'),
    reads: h('span'),
    bytes: h('span'),
    heartbeat: cell('Heartbeat', ''),
  };
  const row = h('tr', { dataset: { server: address } },
    h('th', { class: 'address-cell', attrs: { scope: 'row' } }, h('span', { class: 'address', text: address })),
    h('td', { class: 'state-cell' }, parts.badge),
    parts.rack,
    cell('Space', 'space-cell', bar, parts.space),
    parts.chunks,
    parts.load,
    cell('I/O', '', h('span', { class: 'io' }, parts.reads, parts.bytes)),
    parts.heartbeat);
  return { row, parts };
}

/** "12 r/s · 3 w/s"; a dash when the server reports no rates yet. */
function opsText(server) {
  if (server.readsPerSec == null && server.writesPerSec == null) return DASH;
  return `${formatRate(server.readsPerSec)} r/s · ${formatRate(server.writesPerSec)} w/s`;
}

/** "↓ 1.2 MiB/s ↑ 300 KiB/s" (read, written); empty when unknown. */
function bytesText(server) {
  if (server.readBytesPerSec == null && server.writeBytesPerSec == null) return '';
  return `↓ ${formatByteRate(server.readBytesPerSec)} ↑ ${formatByteRate(server.writeBytesPerSec)}`;
}

function fillRow({ row, parts }, server, nowMs) {
  const state = displayStateOf(server);
  setAttr(row, 'data-state', server.state);
  setText(parts.badge, state);
  setAttr(parts.badge, 'data-badge', state === 'drained' ? 'draining' : state);
  setText(parts.rack, server.rack || DASH);

  const fraction = usedFraction(server.usedBytes, server.capacityBytes);
  setBar(parts.bar, fraction, fullnessLevel(fraction));
  setText(parts.space, Number.isNaN(fraction)
    ? `${formatBytes(server.usedBytes)} used`
    : `${formatBytes(server.usedBytes)} of ${formatBytes(server.capacityBytes)} · ${formatPercent(fraction, 0)}`);

  setText(parts.chunks, formatCount(server.chunks));
  setText(parts.load, formatRate(server.load));
  setText(parts.reads, opsText(server));
  setText(parts.bytes, bytesText(server));
  setText(parts.heartbeat, formatAge(server.lastHeartbeatMs, nowMs));
}

/** Keeps the table body in step with the server list of each poll. */
export function createServersTable() {
  const body = byId('servers-body');
  const empty = byId('servers-empty');
  const rows = new Map(); // address → { row, parts }

  return function render(status) {
    const servers = Array.isArray(status.servers) ? status.servers : [];
    const seen = new Set();
    servers.forEach((server, index) => {
      seen.add(server.address);
      let entry = rows.get(server.address);
      if (!entry) {
        entry = createRow(server.address);
        rows.set(server.address, entry);
      }
      fillRow(entry, server, status.time);
      // Move a row only when it is out of place, so an unchanged table is not touched.
      if (body.children[index] !== entry.row) body.insertBefore(entry.row, body.children[index] ?? null);
    });
    for (const [address, entry] of rows) {
      if (!seen.has(address)) {
        entry.row.remove();
        rows.delete(address);
      }
    }
    show(empty, servers.length === 0);
  };
}
