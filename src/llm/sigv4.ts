/**
 * AWS Signature Version 4 for one HTTP request, with node:crypto alone: the
 * AWS SDK is megabytes of code for what is these few lines, and the module's
 * hot path must stay light. The steps follow AWS's "Create a signed AWS API
 * request" (docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html);
 * tests/unit/llm_sigv4.test.ts checks them against AWS's published test suite.
 */
import { createHash, createHmac } from 'node:crypto';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** Temporary credentials (STS, SSO, instance roles) come with a session token. */
  sessionToken?: string;
}

export interface SigningRequest {
  method: string;
  /** The URL as it is sent: its pathname already percent-encoded. */
  url: URL;
  /** The headers that are sent and signed (host and x-amz-date are added here). */
  headers: Record<string, string>;
  body: string;
  region: string;
  service: string;
}

/** RFC 3986 percent-encoding, as SigV4 wants it: everything but A-Z a-z 0-9 - _ . ~ */
export const uriEncode = (text: string) => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const sha256Hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/** 20150830T123600Z */
export const amzDate = (when: Date) => when.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');

/**
 * Every service but S3 signs each path segment URI-encoded twice: the path as
 * sent is encoded once already (a Bedrock model id's ':' is %3A there), so it
 * is encoded once more (%253A).
 */
export const canonicalUri = (path: string) => path.split('/').map(uriEncode).join('/') || '/';

/** Parameters sorted by encoded name, then value. */
function canonicalQuery(params: URLSearchParams): string {
  const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...params]
    .map(([name, value]) => [uriEncode(name), uriEncode(value)])
    .sort(([n1, v1], [n2, v2]) => byCodePoint(n1, n2) || byCodePoint(v1, v2))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

/** The headers to add to the request: x-amz-date, x-amz-security-token (temporary credentials) and authorization. */
export function signRequest(r: SigningRequest, credentials: AwsCredentials, now = new Date()): Record<string, string> {
  const date = amzDate(now);
  const added: Record<string, string> = { 'x-amz-date': date };
  if (credentials.sessionToken) added['x-amz-security-token'] = credentials.sessionToken;

  // Lower-case names, values trimmed with inner runs of spaces collapsed, sorted by name.
  const headers = new Map<string, string>([['host', r.url.host]]);
  for (const [name, value] of Object.entries({ ...r.headers, ...added })) headers.set(name.toLowerCase(), value.trim().replace(/\s+/g, ' '));
  const names = [...headers.keys()].sort();
  const signedHeaders = names.join(';');

  const canonicalRequest = [
    r.method,
    canonicalUri(r.url.pathname),
    canonicalQuery(r.url.searchParams),
    names.map((n) => `${n}:${headers.get(n)}\n`).join(''),
    signedHeaders,
    sha256Hex(r.body),
  ].join('\n');
  const scope = `${date.slice(0, 8)}/${r.region}/${r.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', date, scope, sha256Hex(canonicalRequest)].join('\n');

  // The signing key is derived from the secret through the scope: date, region, service.
  const signingKey = [date.slice(0, 8), r.region, r.service, 'aws4_request'].reduce<string | Buffer>((key, part) => hmac(key, part), `AWS4${credentials.secretAccessKey}`);
  const signature = createHmac('sha256', signingKey).update(stringToSign, 'utf8').digest('hex');
  return { ...added, authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}` };
}
