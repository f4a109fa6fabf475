/** Lists of master addresses (`--master a:9420,b:9420`): parsing and the config key type. */
import { describe, expect, it } from 'vitest';
import { parseHostPortList, splitAddressList } from '../../src/common/config/address.js';
import { checkValue } from '../../src/common/config/config-schema.js';

describe('master address lists', () => {
  it('parses one address or several, trimming spaces', () => {
    expect(parseHostPortList('a:9420')).toEqual([{ host: 'a', port: 9420 }]);
    expect(parseHostPortList('a:9420, 10.0.0.2:9420,[::1]:1')).toEqual([{ host: 'a', port: 9420 }, { host: '10.0.0.2', port: 9420 }, { host: '[::1]', port: 1 }]);
    expect(splitAddressList(' a:1 ,b:2')).toEqual(['a:1', 'b:2']);
  });

  it('refuses empty entries, bad addresses and repeats with EINVAL', () => {
    for (const bad of ['', 'a:1,', ',a:1', 'a:1,,b:2', 'a:1,b', 'a:1,a:1', 'a:99999']) {
      expect(() => parseHostPortList(bad), bad).toThrow(expect.objectContaining({ code: 'EINVAL' }) as Error);
    }
  });

  it('is a config key type: a list in, the list normalised out', () => {
    const key = { name: 'master', type: 'host-port-list', description: '' } as const;
    expect(checkValue(key, 'a:1, b:2')).toBe('a:1,b:2');
    expect(() => checkValue(key, 'a:1,nope')).toThrow(/HOST:PORT, or several/);
  });
});
