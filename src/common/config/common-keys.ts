/** Configuration keys every daemon has, with the same meaning everywhere. */
import { LOG_LEVELS } from '../log/logger.js';
import type { ConfigKey } from './config-schema.js';

export const LOG_LEVEL_KEY: ConfigKey = {
  name: 'log-level', type: 'choice', choices: LOG_LEVELS, default: 'info', placeholder: 'level',
  description: 'log level',
};

export const CREDENTIALS_KEY: ConfigKey = {
  name: 'credentials', type: 'path', placeholder: 'file', defaultText: 'none: plaintext, for a master run --insecure',
  description: 'credential file to present to the cluster (TLS); the master writes an admin one to <data>/admin.credentials',
};

export const METRICS_LISTEN_KEY: ConfigKey = {
  name: 'metrics-listen', type: 'host-port', defaultText: 'none, no metrics server',
  description: 'address of the HTTP server for /metrics (Prometheus) and /health',
};
