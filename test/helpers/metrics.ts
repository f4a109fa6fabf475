/** Reading a daemon's /metrics in tests: where it listens, and how many calls a method handled. */

/** The address in a daemon's "metrics listening" log line. */
export function metricsAddress(tail: string[]): string {
  for (const line of tail) {
    try {
      const rec = JSON.parse(line) as { msg?: string; address?: string };
      if (rec.msg === 'metrics listening' && rec.address) return rec.address;
    } catch {
      // not JSON
    }
  }
  throw new Error('no "metrics listening" line in the log');
}

/** How many calls of MasterService `method` the master at `address` has handled. */
export async function masterCalls(address: string, method: string): Promise<number> {
  const text = await (await fetch(`http://${address}/metrics`)).text();
  const m = new RegExp(`^fst_rpc_server_handling_seconds_count\\{service="fst\\.MasterService",method="${method}"\\} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}
