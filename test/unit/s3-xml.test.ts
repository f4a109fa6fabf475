/**
 * S3 XML: the response builder's escaping, the two request parsers, and documents they must refuse,
 * entity bombs included.
 */
import { describe, expect, it } from 'vitest';
import { s3Rejects } from '../helpers/s3-signing.js';
import { parseCompleteMultipartUpload, parseDeleteObjects, xmlResponse } from '../../src/gateway/s3/xml.js';

const HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n';
const NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';

function malformed(fn: () => unknown): void {
  expect(s3Rejects(fn, 'MalformedXML').status).toBe(400);
}

const deleteDoc = (objects: string, extra = ''): string => `${HEAD}<Delete ${NS}>${extra}${objects}</Delete>`;

describe('xmlResponse', () => {
  it('writes nested elements, repeats arrays, leaves out undefined, formats dates, numbers and booleans', () => {
    const xml = xmlResponse('ListBucketResult', {
      Name: 'bucket',
      Prefix: '',
      KeyCount: 2,
      IsTruncated: false,
      NextContinuationToken: undefined,
      Contents: [
        { Key: 'a', LastModified: new Date('2026-12-06T10:00:00.000Z'), ETag: '"e1"', Size: 1 },
        { Key: 'b', LastModified: new Date('2026-12-06T10:00:01.000Z'), ETag: '"e2"', Size: 22n },
      ],
    });
    expect(xml).toBe(`${HEAD}<ListBucketResult ${NS}><Name>bucket</Name><Prefix></Prefix><KeyCount>2</KeyCount>`
      + '<IsTruncated>false</IsTruncated>'
      + '<Contents><Key>a</Key><LastModified>2026-12-06T10:00:00.000Z</LastModified><ETag>&quot;e1&quot;</ETag><Size>1</Size></Contents>'
      + '<Contents><Key>b</Key><LastModified>2026-12-06T10:00:01.000Z</LastModified><ETag>&quot;e2&quot;</ETag><Size>22</Size></Contents>'
      + '</ListBucketResult>');
  });

  it('writes attributes and text content, and refuses a name that is not an XML name', () => {
    expect(xmlResponse('LocationConstraint', { '#text': 'eu-west-3' }))
      .toBe(`${HEAD}<LocationConstraint ${NS}>eu-west-3</LocationConstraint>`);
    expect(xmlResponse('AccessControlPolicy', { Grantee: { '@xsi:type': 'CanonicalUser', ID: 'x<y' } }))
      .toBe(`${HEAD}<AccessControlPolicy ${NS}><Grantee xsi:type="CanonicalUser"><ID>x&lt;y</ID></Grantee></AccessControlPolicy>`);
    expect(() => xmlResponse('Bad Name', {})).toThrow();
    expect(() => xmlResponse('R', { 'a<b': 1 })).toThrow();
  });

  it('escapes markup and drops characters XML 1.0 cannot carry', () => {
    const xml = xmlResponse('R', { Key: `a&b<c>"d'e\u0001f\uD800g\uFFFEh😀\r\n\t` });
    expect(xml).toContain('<Key>a&amp;b&lt;c&gt;&quot;d&apos;efgh😀&#13;\n\t</Key>');
  });

  it('round-trips keys through the builder and the DeleteObjects parser', () => {
    const keys = ['a&b', '<tag>', 'quote"s\'', '  lead and trail  ', 'cr\r\nlf', 'tab\tx', '日本語/ключ', '&amp;', ']]>', '😀'];
    const xml = xmlResponse('Delete', { Object: keys.map((Key) => ({ Key })), Quiet: true });
    expect(parseDeleteObjects(xml)).toEqual({ keys, quiet: true });
  });
});

describe('parseDeleteObjects', () => {
  it('reads keys exactly, with numeric references, CDATA and a namespace prefix', () => {
    const xml = `<s3:Delete xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/"><s3:Quiet> TRUE </s3:Quiet>`
      + '<s3:Object><s3:Key>&#x41;&#66;&#x0D;&amp;#67;</s3:Key><s3:VersionId>v1</s3:VersionId></s3:Object>'
      + '<s3:Object><s3:Key><![CDATA[<raw & &#65;>]]></s3:Key></s3:Object>'
      + '<s3:Object><s3:Key>0123</s3:Key></s3:Object></s3:Delete>';
    expect(parseDeleteObjects(xml)).toEqual({ keys: ['AB\r&#67;', '<raw & &#65;>', '0123'], quiet: true });
    expect(parseDeleteObjects(deleteDoc('<Object><Key>k</Key></Object>')).quiet).toBe(false);
  });

  it('refuses no keys, more than 1000 keys, an empty or missing Key and a bad Quiet', () => {
    const objects = (n: number): string => Array.from({ length: n }, (_, i) => `<Object><Key>k${i}</Key></Object>`).join('');
    expect(parseDeleteObjects(deleteDoc(objects(1000))).keys).toHaveLength(1000);
    malformed(() => parseDeleteObjects(deleteDoc(objects(1001))));
    malformed(() => parseDeleteObjects(deleteDoc('')));
    malformed(() => parseDeleteObjects(deleteDoc('<Object><Key></Key></Object>')));
    malformed(() => parseDeleteObjects(deleteDoc('<Object><VersionId>v</VersionId></Object>')));
    malformed(() => parseDeleteObjects(deleteDoc('<Object><Key><b>k</b></Key></Object>')));
    malformed(() => parseDeleteObjects(deleteDoc(objects(1), '<Quiet>maybe</Quiet>')));
  });

  it('refuses documents that are not well-formed XML or not a Delete', () => {
    for (const bad of ['', 'not xml', '<Delete>', '<Delete><Object><Key>k</Object></Key></Delete>',
      '<Delete></Delete><Delete></Delete>', '<Other><Object><Key>k</Key></Object></Other>',
      '<Delete><Object><Key>a & b</Key></Object></Delete>', '<Delete><Object><Key>&nbsp;</Key></Object></Delete>',
      '<Delete><Object><Key>&#0;</Key></Object></Delete>', '<Delete><Object><Key>&#65</Key></Object></Delete>',
      '<Delete>stray text<Object><Key>k</Key></Object></Delete>']) {
      malformed(() => parseDeleteObjects(bad));
    }
  });

  it('does not expand entities: a billion-laughs document is refused at once', () => {
    const lol = ['<!ENTITY lol0 "lol">', ...Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i};`.repeat(10)}">`)];
    const bomb = `<?xml version="1.0"?><!DOCTYPE Delete [${lol.join('')}]><Delete><Object><Key>&lol9;</Key></Object></Delete>`;
    const started = performance.now();
    malformed(() => parseDeleteObjects(bomb));
    expect(performance.now() - started).toBeLessThan(1000);
    const external = '<?xml version="1.0"?><!DOCTYPE Delete [<!ENTITY x SYSTEM "file:///etc/passwd">]><Delete><Object><Key>&x;</Key></Object></Delete>';
    malformed(() => parseDeleteObjects(external));
    // An entity without its DOCTYPE declaration is simply undefined.
    malformed(() => parseDeleteObjects('<Delete><Object><Key>&lol9;</Key></Object></Delete>'));
  });
});

describe('parseCompleteMultipartUpload', () => {
  const doc = (parts: string): string => `${HEAD}<CompleteMultipartUpload ${NS}>${parts}</CompleteMultipartUpload>`;
  const part = (n: string, etag: string): string => `<Part><PartNumber>${n}</PartNumber><ETag>${etag}</ETag></Part>`;

  it('reads parts in document order, ETags without quotes, ignoring checksum fields', () => {
    const xml = doc(`\n  ${part('2', '&quot;b2&quot;')}\n  ${part(' 1 ', '"a1"')}`
      + '<Part><ChecksumCRC32>AAAAAA==</ChecksumCRC32><PartNumber>3</PartNumber><ETag>c3</ETag></Part>\n');
    expect(parseCompleteMultipartUpload(xml)).toEqual([
      { partNumber: 2, etag: 'b2' }, { partNumber: 1, etag: 'a1' }, { partNumber: 3, etag: 'c3' },
    ]);
  });

  it('refuses no parts, bad part numbers, a missing ETag and malformed XML', () => {
    malformed(() => parseCompleteMultipartUpload(doc('')));
    for (const n of ['0', '10001', '1.5', '-1', 'one', '']) malformed(() => parseCompleteMultipartUpload(doc(part(n, 'e'))));
    malformed(() => parseCompleteMultipartUpload(doc('<Part><PartNumber>1</PartNumber></Part>')));
    malformed(() => parseCompleteMultipartUpload(doc(part('1', '""'))));
    malformed(() => parseCompleteMultipartUpload('<CompleteMultipartUpload><Part>'));
    malformed(() => parseCompleteMultipartUpload('<Delete/>'));
    expect(parseCompleteMultipartUpload(doc(part('10000', 'e')))).toEqual([{ partNumber: 10000, etag: 'e' }]);
  });
});
