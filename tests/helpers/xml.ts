/**
 * A real XML parser for tests (Python's ElementTree, always on the test
 * machines): a document that parses is well-formed, whatever wrote it.
 */
import { execFileSync } from 'node:child_process';

export interface XmlNode {
  tag: string;
  attrib: Record<string, string>;
  text: string | null;
  children: XmlNode[];
}

const PARSER = `
import sys, json, xml.etree.ElementTree as E
def conv(e):
    return {"tag": e.tag, "attrib": dict(e.attrib), "text": e.text, "children": [conv(c) for c in e]}
root = E.fromstring(sys.stdin.buffer.read())
print(json.dumps(conv(root)))
`;

/** Parse with Python's ElementTree; throws (with Python's message) when the XML is not well-formed. */
export function parseXml(xml: string): XmlNode {
  const out = execFileSync('python3', ['-c', PARSER], { input: Buffer.from(xml, 'utf8'), encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  return JSON.parse(out);
}
