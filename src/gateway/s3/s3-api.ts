/**
 * The S3 API: authenticates the request (auth/authenticate.ts), finds bucket and key, and sends it
 * to its operation by method and query, as S3 does. Only path-style URLs (`/<bucket>/<key>`);
 * clients are configured with `forcePathStyle` (aws-sdk), `addressing_style = path` (aws-cli,
 * boto3) or `force_path_style` (rclone). Subresources FST has no counterpart for (ACLs, policies,
 * versioning, tagging, lifecycle...) are NotImplemented, except the ones clients ask for on every
 * run, answered with the defaults (location, versioning: off).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../common/log/logger.js';
import type { Authenticator, RawTarget } from '../auth/authenticate.js';
import { createBucket, deleteBucket, headBucket, listBuckets } from './buckets.js';
import { deleteObjects } from './delete-objects.js';
import { listObjects } from './list-objects.js';
import { abortUpload, completeUpload, createUpload, listParts, listUploads, uploadPart } from './multipart.js';
import { copyObject, deleteObject, getObject, putObject } from './objects.js';
import { S3Error } from './s3-error.js';
import { sendXml, type S3Request } from './s3-request.js';
import { parseS3Target } from './s3-target.js';

export interface S3ApiOptions {
  auth: Authenticator;
  log: Logger;
}

const UNSUPPORTED_SUBRESOURCES = ['acl', 'policy', 'cors', 'lifecycle', 'tagging', 'website', 'replication', 'encryption', 'logging', 'notification', 'object-lock', 'retention', 'legal-hold', 'torrent', 'restore', 'select', 'accelerate', 'analytics', 'inventory', 'metrics', 'ownershipControls', 'publicAccessBlock', 'requestPayment', 'intelligent-tiering', 'attributes'];

export class S3Api {
  constructor(private readonly o: S3ApiOptions) {}

  async handle(req: IncomingMessage, res: ServerResponse, target: RawTarget, requestId: string): Promise<void> {
    const principal = await this.o.auth.s3(req, target);
    const { bucket, key } = parseS3Target(target.rawPath);
    const r: S3Request = { req, res, principal, bucket, key, query: new URLSearchParams(target.rawQuery), requestId, log: this.o.log };
    const method = req.method ?? 'GET';
    const sub = UNSUPPORTED_SUBRESOURCES.find((s) => r.query.has(s));
    if (sub) throw new S3Error('NotImplemented', `the '${sub}' subresource is not supported by FST`);
    if (bucket === '') {
      if (method === 'GET') return listBuckets(r);
      throw new S3Error('MethodNotAllowed', `${method} is not allowed on the service`);
    }
    return key === '' ? this.bucketOp(r, method) : this.objectOp(r, method);
  }

  private bucketOp(r: S3Request, method: string): Promise<void> {
    switch (method) {
      case 'GET':
        if (r.query.has('location')) return headBucket(r, true).then(() => sendXml(r, 200, 'LocationConstraint', {}));
        if (r.query.has('versioning')) return headBucket(r, true).then(() => sendXml(r, 200, 'VersioningConfiguration', {}));
        if (r.query.has('uploads')) return listUploads(r);
        if (r.query.has('versions')) throw new S3Error('NotImplemented', 'FST keeps no object versions');
        return listObjects(r);
      case 'HEAD':
        return headBucket(r, false);
      case 'PUT':
        // PutBucketVersioning and the like name a subresource: not a CreateBucket.
        if ([...r.query.keys()].length > 0) throw new S3Error('NotImplemented', `PUT on a bucket with ?${[...r.query.keys()][0]} is not supported by FST`);
        return createBucket(r);
      case 'DELETE':
        return deleteBucket(r);
      case 'POST':
        if (r.query.has('delete')) return deleteObjects(r);
        throw new S3Error('NotImplemented', 'POST on a bucket supports ?delete only (POST object uploads are not supported)');
      default:
        throw new S3Error('MethodNotAllowed', `${method} is not allowed on a bucket`);
    }
  }

  private objectOp(r: S3Request, method: string): Promise<void> {
    const uploadId = r.query.get('uploadId');
    switch (method) {
      case 'GET':
        return uploadId !== null ? listParts(r, uploadId) : getObject(r, false);
      case 'HEAD':
        return getObject(r, true);
      case 'PUT':
        if (uploadId !== null) {
          if (r.req.headers['x-amz-copy-source'] !== undefined) throw new S3Error('NotImplemented', 'UploadPartCopy is not supported');
          return uploadPart(r, uploadId);
        }
        return r.req.headers['x-amz-copy-source'] !== undefined ? copyObject(r) : putObject(r);
      case 'DELETE':
        return uploadId !== null ? abortUpload(r, uploadId) : deleteObject(r);
      case 'POST':
        if (r.query.has('uploads')) return createUpload(r);
        if (uploadId !== null) return completeUpload(r, uploadId);
        throw new S3Error('NotImplemented', 'POST on an object supports ?uploads and ?uploadId only');
      default:
        throw new S3Error('MethodNotAllowed', `${method} is not allowed on an object`);
    }
  }
}
