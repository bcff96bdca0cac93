// SigV4 verification for the embedded bucket's front: recompute the signature with aws4fetch's own
// signer (the code that mints the app's URLs) from the request as received, and compare.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { AwsV4Signer } from 'aws4fetch';

export type AuthVerdict =
  | { readonly ok: true; readonly accessKeyId: string; readonly signedHeaders: readonly string[] }
  | { readonly ok: false; readonly status: number; readonly code: string; readonly message: string };

const MAX_EXPIRES = 604_800; // 7 days, as S3
const MAX_SKEW_MS = 15 * 60 * 1000;

const deny = (status: number, code: string, message: string): AuthVerdict => ({ ok: false, status, code, message });

function parseAmzDate(s: string | null | undefined): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s ?? '');
  if (!m) return NaN;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Verifies query-string (presigned) or Authorization-header SigV4 for an S3 request. `url` is the
 * request URL as received (Host header + raw path and query). Requests with neither are denied:
 * the bucket is private. The payload hash is taken as claimed (UNSIGNED-PAYLOAD for presigned URLs).
 */
export async function verifySigV4(
  method: string,
  url: URL,
  headers: IncomingHttpHeaders,
  secretFor: (accessKeyId: string) => string | undefined,
  now = Date.now(),
): Promise<AuthVerdict> {
  const q = url.searchParams;
  const authorization = header(headers, 'authorization');
  const byQuery = q.has('X-Amz-Algorithm') || q.has('X-Amz-Signature') || q.has('X-Amz-Credential');
  if (byQuery && authorization) return deny(400, 'InvalidArgument', 'Only one auth mechanism allowed.');
  if (!byQuery && !authorization) return deny(403, 'AccessDenied', 'Anonymous access is not allowed on this bucket.');

  let credential: string;
  let signedHeaders: string;
  let signature: string;
  let datetime: string;
  if (byQuery) {
    for (const p of ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature']) {
      if (!q.get(p)) {
        return deny(400, 'AuthorizationQueryParametersError', `Query-string authentication version 4 requires ${p}.`);
      }
    }
    if (q.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') {
      return deny(400, 'AuthorizationQueryParametersError', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256".');
    }
    credential = q.get('X-Amz-Credential')!;
    signedHeaders = q.get('X-Amz-SignedHeaders')!;
    signature = q.get('X-Amz-Signature')!;
    datetime = q.get('X-Amz-Date')!;
    const at = parseAmzDate(datetime);
    if (Number.isNaN(at)) return deny(400, 'AuthorizationQueryParametersError', 'X-Amz-Date must be yyyyMMddTHHmmssZ.');
    const expires = q.get('X-Amz-Expires')!;
    if (!/^\d+$/.test(expires) || +expires < 1 || +expires > MAX_EXPIRES) {
      return deny(400, 'AuthorizationQueryParametersError', `X-Amz-Expires must be 1–${MAX_EXPIRES} seconds.`);
    }
    if (now > at + +expires * 1000) return deny(403, 'AccessDenied', 'Request has expired');
    if (at > now + MAX_SKEW_MS) return deny(403, 'AccessDenied', 'Request is not valid yet');
  } else {
    const m = /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]+)$/.exec(authorization!.trim());
    if (!m) return deny(400, 'AuthorizationHeaderMalformed', 'The authorization header is malformed.');
    [, credential, signedHeaders, signature] = m as unknown as [string, string, string, string];
    datetime = header(headers, 'x-amz-date') ?? '';
    const at = parseAmzDate(datetime);
    if (Number.isNaN(at)) return deny(403, 'AccessDenied', 'AWS authentication requires a valid x-amz-date header.');
    if (Math.abs(now - at) > MAX_SKEW_MS) return deny(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.');
    if (!header(headers, 'x-amz-content-sha256')) return deny(400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256.');
  }

  const [accessKeyId, day, region, service, terminator, ...extra] = credential.split('/');
  if (!accessKeyId || !day || !region || !service || terminator !== 'aws4_request' || extra.length > 0) {
    return deny(400, 'AuthorizationQueryParametersError', 'Error parsing the X-Amz-Credential parameter.');
  }
  const secretAccessKey = secretFor(accessKeyId);
  if (secretAccessKey === undefined) return deny(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
  const names = signedHeaders.split(';');
  if (!names.includes('host')) return deny(400, 'AuthorizationQueryParametersError', 'SignedHeaders must include host.');

  // Exactly the headers the client claims to have signed; a missing one counts as empty, so a client
  // that drops a signed header (e.g. If-None-Match) gets SignatureDoesNotMatch.
  const signed = new Headers();
  for (const name of names) if (name !== 'host') signed.set(name, header(headers, name) ?? '');
  const unsigned = new URL(url);
  unsigned.searchParams.delete('X-Amz-Signature');
  const signer = new AwsV4Signer({
    method,
    url: unsigned.toString(),
    headers: signed,
    accessKeyId,
    secretAccessKey,
    service,
    region,
    datetime,
    signQuery: byQuery,
    allHeaders: true,
  });
  // The signer rebuilds SignedHeaders (sorted) and Credential (date from X-Amz-Date); any difference
  // from what the client sent changes the canonical request, hence the signature.
  if (signer.signedHeaders !== signedHeaders || `${accessKeyId}/${signer.credentialString}` !== credential) {
    return deny(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
  }
  const expected = await signer.signature();
  if (!same(expected, signature)) {
    return deny(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
  }
  return { ok: true, accessKeyId, signedHeaders: names };
}
