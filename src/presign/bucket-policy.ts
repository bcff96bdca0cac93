/** The request headers that make a PUT do more than store its body: copy, or change who may read. */
const WIDENING_HEADERS = [
  'x-amz-copy-source',
  'x-amz-acl',
  'x-amz-grant-read',
  'x-amz-grant-write',
  'x-amz-grant-read-acp',
  'x-amz-grant-write-acp',
  'x-amz-grant-full-control',
] as const;

/**
 * A bucket policy (JSON) for buckets that honour unsigned x-amz-* headers on presigned URLs (Ceph
 * radosgw; AWS refuses them anyway): under `prefix`, deny every PutObject that carries a copy source,
 * a canned ACL or a grant, and every ACL change. Scion never sends any of them. Apply it with the
 * bucket owner's credentials (`PUT /{bucket}?policy`); an explicit Deny binds the owner too.
 */
export function scionBucketPolicy(bucket: string, prefix = ''): string {
  const resource = `arn:aws:s3:::${bucket}/${prefix.replace(/^\/+|\/+$/g, '')}${prefix ? '/' : ''}*`;
  const statements: object[] = WIDENING_HEADERS.map((h) => ({
    Sid: `ScionDenyPut${h.replace(/^x-amz-/, '').replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase())}`,
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:PutObject',
    Resource: resource,
    // "One character or more": matches only a header that is present. Not '*' (radosgw 16 sees an
    // absent x-amz-acl as "") nor Null/false (radosgw 16 inverts it). One statement per header: the
    // keys of one condition block are ANDed.
    Condition: { StringLike: { [`s3:${h}`]: '?*' } },
  }));
  statements.push({ Sid: 'ScionDenyAclChanges', Effect: 'Deny', Principal: '*', Action: ['s3:PutObjectAcl', 's3:PutObjectVersionAcl'], Resource: resource });
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}
