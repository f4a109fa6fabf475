/**
 * The dashboard's files (web/dashboard/, plain HTML, CSS and ES modules: nothing to build), served
 * under /ui/ from memory: they are read once at start, so serving them costs no disk access and a
 * request can never name a file outside that directory.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { extname, join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { contentTypeOf } from './http/content-type.js';
import { HttpError } from './http/http-error.js';

/** web/dashboard beside src/ and dist/ (this module is src/gateway or dist/gateway). */
export const DASHBOARD_DIR = join(import.meta.dirname, '..', '..', 'web', 'dashboard');

interface StaticFile {
  body: Buffer;
  type: string;
  etag: string;
}

export class StaticFiles {
  private readonly files = new Map<string, StaticFile>();

  constructor(dir = DASHBOARD_DIR) {
    let names: string[] = [];
    try {
      names = readdirSync(dir).filter((n) => extname(n) !== '');
    } catch {
      // No dashboard installed: /ui/ answers 404.
    }
    for (const name of names) {
      const body = readFileSync(join(dir, name));
      this.files.set(name, { body, type: contentTypeOf(name), etag: `"${createHash('sha1').update(body).digest('hex').slice(0, 20)}"` });
    }
  }

  serve(req: IncomingMessage, res: ServerResponse, name: string): void {
    const f = this.files.get(name === '' ? 'index.html' : name);
    if (!f) throw new HttpError(404, 'ENOENT', `no file /ui/${name}`);
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'bad-method', 'GET only', { allow: 'GET, HEAD' });
    const headers = {
      'content-type': f.type, 'content-length': f.body.length, etag: f.etag, 'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff', 'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'",
    };
    if (req.headers['if-none-match'] === f.etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : f.body);
  }
}
