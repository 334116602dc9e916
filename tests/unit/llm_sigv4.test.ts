/**
 * AWS Signature Version 4 (src/llm/sigv4.ts) against AWS's published test
 * suite: the requests, credentials and expected signatures of the "aws-sig-v4-
 * test-suite" as the AWS SDK for JavaScript v3 carries it
 * (aws/aws-sdk-js-v3, packages/signature-v4/src/suite.fixture.ts), and the
 * session-token case of awslabs/aws-c-auth
 * (tests/aws-signing-test-suite/v4/get-vanilla-with-session-token).
 */
import { describe, expect, it } from 'vitest';
import { amzDate, canonicalUri, signRequest, uriEncode, type AwsCredentials } from '../../src/llm/sigv4';

const CREDENTIALS: AwsCredentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const WHEN = new Date('2015-08-30T12:36:00Z');
const SCOPE = 'AKIDEXAMPLE/20150830/us-east-1/service/aws4_request';

function sign(url: string, o: { method?: string; headers?: Record<string, string>; body?: string; credentials?: AwsCredentials } = {}) {
  return signRequest(
    { method: o.method ?? 'GET', url: new URL(url), headers: o.headers ?? {}, body: o.body ?? '', region: 'us-east-1', service: 'service' },
    o.credentials ?? CREDENTIALS,
    WHEN,
  );
}

describe('the AWS SigV4 test suite', () => {
  it('get-vanilla', () => {
    expect(sign('https://example.amazonaws.com/')).toEqual({
      'x-amz-date': '20150830T123600Z',
      authorization: `AWS4-HMAC-SHA256 Credential=${SCOPE}, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31`,
    });
  });

  it('post-x-www-form-urlencoded: a signed content type and body', () => {
    const signed = sign('https://example.amazonaws.com/', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'Param1=value1' });
    expect(signed.authorization).toBe(
      `AWS4-HMAC-SHA256 Credential=${SCOPE}, SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a`,
    );
  });

  it('post-x-www-form-urlencoded-parameters', () => {
    const signed = sign('https://example.amazonaws.com/', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf8' }, body: 'Param1=value1' });
    expect(signed.authorization).toContain('Signature=1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe');
  });

  it('get-vanilla-query-order-key-case: parameters sorted', () => {
    expect(sign('https://example.amazonaws.com/?Param2=value2&Param1=value1').authorization).toContain(
      'Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
    );
  });

  it('post-vanilla-query-nonunreserved: names and values percent-encoded', () => {
    const query = new URLSearchParams([
      ['@#$%^', ''],
      ['+', '/,?><`";:\\|][{}'],
    ]);
    expect(sign(`https://example.amazonaws.com/?${query}`, { method: 'POST' }).authorization).toContain(
      'Signature=66c82657c86e26fb25238d0e69f011edc4c6df5ae71119d7cb98ed9b87393c1e',
    );
  });

  it('get-unreserved: unreserved characters stay as they are', () => {
    expect(sign('https://example.amazonaws.com/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz').authorization).toContain(
      'Signature=07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f',
    );
  });

  it('get-header-value-trim: values trimmed, inner spaces collapsed', () => {
    const signed = sign('https://example.amazonaws.com/', { headers: { 'My-Header1': 'value1', 'my-header2': '"a   b   c"' } });
    expect(signed.authorization).toBe(
      `AWS4-HMAC-SHA256 Credential=${SCOPE}, SignedHeaders=host;my-header1;my-header2;x-amz-date, Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736`,
    );
  });

  it('get-vanilla-with-session-token: temporary credentials sign x-amz-security-token', () => {
    const token = '6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267';
    expect(sign('https://example.amazonaws.com/', { credentials: { ...CREDENTIALS, sessionToken: token } })).toEqual({
      'x-amz-date': '20150830T123600Z',
      'x-amz-security-token': token,
      authorization: `AWS4-HMAC-SHA256 Credential=${SCOPE}, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8`,
    });
  });
});

describe('what Bedrock needs beyond the suite', () => {
  it('a path segment already encoded for the wire is encoded again (every service but S3)', () => {
    const model = 'anthropic.claude-3-haiku-20240307-v1:0';
    const url = new URL(`https://bedrock-runtime.us-east-1.amazonaws.com/model/${uriEncode(model)}/converse`);
    expect(url.pathname).toBe('/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse');
    expect(canonicalUri(url.pathname)).toBe('/model/anthropic.claude-3-haiku-20240307-v1%253A0/converse');
    expect(canonicalUri('/')).toBe('/');
  });

  it('uriEncode follows RFC 3986 (encodeURIComponent leaves !\'()* alone)', () => {
    expect(uriEncode("a:b/c d!'()*~._-")).toBe('a%3Ab%2Fc%20d%21%27%28%29%2A~._-');
    expect(uriEncode('ሴ')).toBe('%E1%88%B4');
  });

  it('x-amz-date is the basic ISO 8601 form in UTC', () => {
    expect(amzDate(new Date('2024-02-29T23:59:58.123Z'))).toBe('20240229T235958Z');
  });

  it('the port of a non-default endpoint is part of the signed host', () => {
    const a = sign('http://127.0.0.1:8080/model/m/converse', { method: 'POST', body: '{}' });
    const b = sign('http://127.0.0.1:8081/model/m/converse', { method: 'POST', body: '{}' });
    expect(a.authorization).not.toBe(b.authorization);
  });
});
