/**
 * Every configuration key of fst-gateway: its flag (`--<name>`), config file key and environment
 * variable (`FST_<NAME>`). docs/CONFIG.md is generated from this table.
 */
import type { ConfigSchema } from '../common/config/config-schema.js';
import { CREDENTIALS_KEY, LOG_LEVEL_KEY, METRICS_LISTEN_KEY } from '../common/config/common-keys.js';

export const GATEWAY_CONFIG_KEYS: ConfigSchema = [
  { name: 'master', type: 'host-port-list', required: true, description: 'master address, or the addresses of several masters separated by commas (the active one is followed)' },
  { name: 'listen', type: 'host-port', default: '127.0.0.1:9480', description: 'address of the HTTP server (REST under /files/, S3, the dashboard under /ui/, /health)' },
  CREDENTIALS_KEY,
  {
    name: 'keys', type: 'path', placeholder: 'file', defaultText: 'none: every request is anonymous',
    description: 'TOML file of the access keys the gateway accepts ([[keys]] id, secret, credentials, caller, read-only); see docs/GATEWAY.md',
  },
  {
    name: 'anonymous', type: 'choice', choices: ['auto', 'none', 'read', 'write'], default: 'auto', placeholder: 'access',
    description: 'what requests without a key may do: none, read, or write; auto: write without a keys file, none with one',
  },
  {
    name: 'anonymous-caller', type: 'string', default: '0:0', placeholder: 'uid:gid',
    description: "the caller anonymous requests act as, with the gateway's credential (a client credential maps root to nobody)",
  },
  { name: 'tls-cert', type: 'path', placeholder: 'file', defaultText: 'none: plain HTTP', description: 'PEM certificate chain: serve HTTPS (with tls-key)' },
  { name: 'tls-key', type: 'path', placeholder: 'file', defaultText: 'none', description: 'PEM private key of tls-cert' },
  {
    name: 'master-timeout', type: 'non-negative-number', default: 60, placeholder: 'seconds',
    description: 'how long requests wait for an unreachable master or chunkserver before failing (503/504)',
  },
  LOG_LEVEL_KEY,
  METRICS_LISTEN_KEY,
];
