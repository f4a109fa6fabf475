// What the dashboard derives from the server list of /api/status.

/**
 * The state shown for a server: "dead" when the master says so, else its decommission stage
 * ("draining", "drained") when it has one, else its raw state (normally "alive").
 */
export function displayStateOf(server) {
  if (server.state === 'dead') return 'dead';
  if (server.decommission === 'draining' || server.decommission === 'drained') return server.decommission;
  return server.state || 'unknown';
}

/** How many servers show each state: `{ alive, dead, draining, drained }`. */
export function countByState(servers) {
  const counts = { alive: 0, dead: 0, draining: 0, drained: 0 };
  for (const server of servers) {
    const state = displayStateOf(server);
    if (state in counts) counts[state] += 1;
  }
  return counts;
}

/** The used fraction of a capacity, or NaN when the capacity is unknown or zero. */
export function usedFraction(usedBytes, capacityBytes) {
  return capacityBytes > 0 ? usedBytes / capacityBytes : Number.NaN;
}

/** How full a disk looks: null (fine), "warn" from 85 %, "bad" from 95 %. */
export function fullnessLevel(fraction) {
  if (!(fraction >= 0.85)) return null;
  return fraction >= 0.95 ? 'bad' : 'warn';
}
