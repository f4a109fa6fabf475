/**
 * DeleteObjects (POST /<bucket>?delete): up to 1,000 keys named in an XML body, each deleted as
 * DeleteObject does; the answer lists what was deleted (unless Quiet) and what failed, per key.
 */
import { toFsError } from '../../common/errors/to-errno.js';
import { readSmallBody } from '../http/small-body.js';
import { bodyChecks } from './body-check.js';
import { deleteKey } from './objects.js';
import { S3Error } from './s3-error.js';
import { checkBucket, mustWrite, sendXml, type S3Request } from './s3-request.js';
import { checkKey } from './s3-target.js';
import { parseDeleteObjects } from './xml.js';
import { requestBody } from '../http/request-body.js';

const MAX_BODY = 2 * 1024 * 1024;

async function readChecked(r: S3Request): Promise<string> {
  const checks = bodyChecks(r.req.headers, r.principal.signature);
  if (checks.length === 0) return (await readSmallBody(r.req, MAX_BODY)).toString('utf8');
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of requestBody(r.req, checks)) {
    total += chunk.length;
    if (total > MAX_BODY) throw new S3Error('MalformedXML', 'the Delete document is too large');
    parts.push(chunk);
  }
  return Buffer.concat(parts).toString('utf8');
}

export async function deleteObjects(r: S3Request): Promise<void> {
  mustWrite(r);
  await checkBucket(r);
  const { keys, quiet } = parseDeleteObjects(await readChecked(r));
  const deleted: { Key: string }[] = [];
  const errors: { Key: string; Code: string; Message: string }[] = [];
  for (const key of keys) {
    try {
      await deleteKey(r, checkKey(key));
      if (!quiet) deleted.push({ Key: key });
    } catch (e) {
      const code: string = e instanceof S3Error ? e.code : toFsError(e).code === 'EACCES' ? 'AccessDenied' : 'InternalError';
      errors.push({ Key: key, Code: code, Message: e instanceof Error ? e.message : String(e) });
    }
  }
  sendXml(r, 200, 'DeleteResult', { Deleted: deleted, Error: errors });
}
