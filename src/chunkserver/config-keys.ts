/**
 * Every configuration key of fst-chunkserver: its flag (`--<name>`), config file key
 * (`<name> = ...`) and environment variable (`FST_<NAME>`). docs/CONFIG.md is generated from it.
 */
import type { ConfigSchema } from '../common/config/config-schema.js';
import { CREDENTIALS_KEY, LOG_LEVEL_KEY, METRICS_LISTEN_KEY } from '../common/config/common-keys.js';

export const CHUNKSERVER_CONFIG_KEYS: ConfigSchema = [
  { name: 'master', type: 'host-port-list', required: true, description: 'master address, or the addresses of several masters separated by commas (the active one is followed)' },
  {
    name: 'data', type: 'path-list', required: true, placeholder: 'dir',
    description: 'data directories, one per disk (repeat the flag; a list in the file; comma separated in the environment); created when missing',
  },
  { name: 'listen', type: 'host-port', required: true, description: 'address to listen on (port 0 picks a free port)' },
  {
    name: 'advertise', type: 'host-port', defaultText: 'the listen address, or for a wildcard host the first external IPv4 address',
    description: 'address clients and peers use',
  },
  { name: 'rack', type: 'string', defaultText: 'none', placeholder: 'name', description: 'rack name, a placement hint for the master' },
  { name: 'reserve', type: 'byte-size', default: 0, placeholder: 'bytes', description: 'bytes to keep free on every data directory' },
  { name: 'scrub-rate-mib', type: 'non-negative-number', default: 4, placeholder: 'n', description: 'MiB per second the scrubber reads to verify checksums (0 disables it)' },
  { name: 'scrub-interval-ms', type: 'non-negative-int', default: 3600000, placeholder: 'ms', description: 'rest between two scrub passes, in ms' },
  { name: 'write-idle-ms', type: 'positive-int', default: 30000, placeholder: 'ms', description: "a WriteChunk stream silent this long fails, giving up its chunk's turn" },
  CREDENTIALS_KEY,
  LOG_LEVEL_KEY,
  METRICS_LISTEN_KEY,
];
