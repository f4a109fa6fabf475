/**
 * `POST /files/<dir>/` with a multipart/form-data body (an HTML form's file input): every file
 * part is saved in the directory under its file name, each atomically as a PUT is. A part without a
 * file name (a plain form field) is ignored. A name with a `/` or NUL, or that is `.` or `..`, is
 * refused (400) before that file is written; files earlier in the form are kept (each was whole).
 */
import type { IncomingMessage } from 'node:http';
import { PassThrough, pipeline } from 'node:stream';
import busboy from 'busboy';
import { NAME_MAX } from '../../common/ids.js';
import type { ClusterAccess } from '../client-pool.js';
import { HttpError } from '../http/http-error.js';
import { metaToRecord } from '../store/object-meta.js';
import { putFile } from '../store/put-file.js';

const MAX_FILES = 1000;

function checkName(name: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0') || Buffer.byteLength(name) > NAME_MAX) {
    throw new HttpError(400, 'bad-path', `file name '${name.slice(0, 64)}' is not allowed`);
  }
}

export async function formUpload(req: IncomingMessage, access: ClusterAccess, dir: string): Promise<{ name: string; size: number }[]> {
  let bb: busboy.Busboy;
  try {
    bb = busboy({ headers: req.headers, limits: { files: MAX_FILES, fields: 100, fieldSize: 64 * 1024, headerPairs: 100 } });
  } catch (e) {
    throw new HttpError(400, 'bad-form', `not a multipart form: ${(e as Error).message}`);
  }
  const saved: { name: string; size: number }[] = [];
  // Files are written one after another: busboy hands the next part only once this one is read.
  let chain: Promise<void> = Promise.resolve();
  let failure: unknown;
  // Bodies being written: a form that breaks off fails them, so no half file is renamed into place.
  const open = new Set<PassThrough>();
  const breakOff = (err: HttpError): void => {
    for (const b of open) b.destroy(err);
  };
  const done = new Promise<void>((resolve, reject) => {
    bb.on('file', (_field, stream, info) => {
      const name = info.filename;
      if (name === undefined) {
        stream.resume();
        return;
      }
      const body = new PassThrough();
      open.add(body);
      pipeline(stream, body, () => open.delete(body));
      chain = chain.then(async () => {
        if (failure !== undefined) {
          stream.resume();
          return;
        }
        checkName(name);
        const target = dir === '/' ? `/${name}` : `${dir}/${name}`;
        const st = await putFile(access, target, body, {
          makeParents: true, meta: () => metaToRecord(target, info.mimeType === 'application/octet-stream' ? undefined : info.mimeType),
        });
        saved.push({ name, size: st.size });
      }).catch((e: unknown) => {
        failure ??= e;
        stream.resume();
      });
    });
    bb.on('filesLimit', () => (failure ??= new HttpError(413, 'too-many-files', `more than ${MAX_FILES} files in one form`)));
    bb.on('error', (e: unknown) => {
      const err = new HttpError(400, 'bad-form', `malformed multipart form: ${(e as Error).message}`);
      breakOff(err);
      reject(err);
    });
    bb.on('close', () => resolve());
    req.on('close', () => {
      if (req.complete) return;
      const err = new HttpError(400, 'truncated', 'the request body ended early');
      breakOff(err);
      reject(err);
    });
  });
  req.pipe(bb);
  try {
    await done;
  } finally {
    await chain;
  }
  if (failure !== undefined) throw failure;
  return saved;
}
