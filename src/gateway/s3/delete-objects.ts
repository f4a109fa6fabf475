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

const MAX_BODY = 2 * 1024 * 1024;

export async function deleteObjects(r: S3Request): Promise<void> {
  mustWrite(r);
  await checkBucket(r);
  const { keys, quiet } = parseDeleteObjects((await readSmallBody(r.req, MAX_BODY, bodyChecks(r.req.headers, r.principal.signature))).toString('utf8'));
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
