/** fstadmin status's lines about the metadata and the masters (formatStatus). */
import { describe, expect, it } from 'vitest';
import { formatStatus, statusToJson } from '../../src/admin/commands/status.js';
import { fst } from '../../src/proto-gen/fst.js';

function lines(res: fst.IGetClusterStatusResponse): string[] {
  return formatStatus(statusToJson(fst.GetClusterStatusResponse.create(res)));
}

describe('fstadmin status: masters', () => {
  it('shows the active master with its epoch and lease age, then the standbys', () => {
    const out = lines({
      engine: 'postgres',
      masters: [{ address: '10.0.0.1:9420', role: 'active', leaseAgeMs: 412, epoch: 3 }, { address: '10.0.0.2:9420', role: 'standby', leaseAgeMs: 230 }],
    });
    expect(out).toContain('metadata:    postgres; no backup made since the master started');
    expect(out).toContain('masters:     10.0.0.1:9420 active (epoch 3, lease renewed 0.4 s ago)');
    expect(out).toContain('             10.0.0.2:9420 standby (seen 0.2 s ago)');
  });

  it('shows a single SQLite master without lease details, and nothing from a master that sends no list', () => {
    expect(lines({ engine: 'sqlite', masters: [{ address: '10.0.0.1:9420', role: 'active' }] })).toContain('masters:     10.0.0.1:9420 active');
    expect(lines({ engine: 'sqlite' }).some((l) => l.startsWith('masters:'))).toBe(false);
  });

  it('carries the masters in --json', () => {
    const json = statusToJson(fst.GetClusterStatusResponse.create({ masters: [{ address: 'a:1', role: 'standby', leaseAgeMs: 5 }] }));
    expect(json.masters).toEqual([{ address: 'a:1', role: 'standby', leaseAgeMs: 5, epoch: 0 }]);
  });
});
