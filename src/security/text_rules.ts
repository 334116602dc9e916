/**
 * The text rules: checks on one string the model reads (a description, an
 * enum value, a tool result). No library recognises prompt injection in tool
 * definitions, so these are hand-written pattern tables, one per rule, each
 * tuned against the reference servers (server-everything, -memory,
 * -filesystem, -sequential-thinking must stay at low or below) and the
 * poisoned corpus in tests/helpers/poisoned_server.mjs.
 *
 * Phrase rules run on a normalised copy of the text (NFKC, invisible
 * characters removed, Cyrillic/Greek look-alikes mapped to Latin) so that
 * "ig<U+200B>nore prev<Cyrillic i>ous instructions" is still read as the model
 * reads it; the character rules (MCPA201, MCPA203) run on the raw text.
 */
import type { Severity } from './types';
import type { TextRole } from './surface';

export interface TextMatch {
  index: number;
  length: number;
  /** Overrides the rule's default severity for this match. */
  severity?: Severity;
  /** What was found, for the finding's message: `tag "<IMPORTANT>"`. */
  what: string;
  /** Evidence to show instead of the excerpt around the match (e.g. decoded text). */
  evidence?: string;
}

export interface TextContext {
  /** Tools of other servers (option known_tools). */
  knownTools: string[];
  /** This server's tools: references to them are ordinary cross references. */
  ownTools: string[];
  /** The tool the text belongs to, if any (a tool does not shadow itself). */
  selfTool?: string;
  /** Parameter names of the tool the text belongs to: "pass X as 'notes'" names a side channel. */
  paramNames: string[];
}

export interface TextCheck {
  rule: string;
  /** Which strings the rule reads. */
  roles: TextRole[];
  /** `raw` for character rules; phrase rules read the normalised text. */
  on: 'raw' | 'normalized';
  find(text: string, ctx: TextContext): TextMatch[];
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** Every match of a global regex, as TextMatch with `what` made by `label`. */
function all(re: RegExp, text: string, label: (m: RegExpExecArray) => string, severity?: Severity): TextMatch[] {
  const out: TextMatch[] = [];
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[0] === '') {
      re.lastIndex++;
      continue;
    }
    out.push({ index: m.index, length: m[0].length, what: label(m), ...(severity ? { severity } : {}) });
  }
  return out;
}

const quoted = (m: RegExpExecArray) => `"${oneLine(m[0]).trim()}"`;
const oneLine = (s: string) => s.replace(/\s+/g, ' ');

/** Every match of every regex of a table, in text order. */
function table(res: RegExp[], text: string, label = quoted): TextMatch[] {
  return res.flatMap((re) => all(re, text, label)).sort((a, b) => a.index - b.index);
}

/**
 * Sentence spans: split at . ! ? followed by space, at blank lines and before list items. Single
 * newlines do not split (descriptions wrap lines mid-sentence); dots inside paths (~/.ssh) do not.
 */
function sentences(text: string): Array<{ start: number; text: string }> {
  const out: Array<{ start: number; text: string }> = [];
  const boundary = /[.!?](?=\s|$)|\n\s*\n|\n(?=[ \t]*(?:[-*\u2022]|\d+[.)])\s)/g;
  let start = 0;
  for (let m = boundary.exec(text); m; m = boundary.exec(text)) {
    const end = m.index + m[0].length;
    if (end > start) out.push({ start, text: text.slice(start, end) });
    start = end;
  }
  if (start < text.length) out.push({ start, text: text.slice(start) });
  return out;
}

/** An opening or closing quote or backtick around a name. */
const QUOTE = "[`'\"]";

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// ---------------------------------------------------------------------------------------------
// Character classes (MCPA201, MCPA203) and normalisation

/** Characters that render as nothing or reorder text. */
const TAG = /[\u{E0000}-\u{E007F}]/u;
const ZERO_WIDTH = /[\u200B\u200C\u200D\u2060-\u2064\uFEFF\u180E\u034F\u115F\u1160\u3164\uFFA0\u00AD]/u;
const BIDI = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/u;
const VARIATION = /[\uFE00-\uFE0F\u{E0100}-\u{E01EF}]/u;
const PICTO = /\p{Extended_Pictographic}|\p{Emoji_Modifier}|\p{Regional_Indicator}/u;
const RTL_LETTER = /[\p{Script=Hebrew}\p{Script=Arabic}\p{Script=Syriac}\p{Script=Thaana}]/u;
/** Scripts that write with ZWJ/ZWNJ legitimately (Persian, Indic, ...): any letter outside Latin/Greek/Cyrillic. */
const JOINING_SCRIPT_LETTER = /(?![\p{Script=Latin}\p{Script=Greek}\p{Script=Cyrillic}])\p{L}/u;
/** C0 and C1 controls other than tab, newline and carriage return. */
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/gu;

/** Spaces a reviewer cannot tell from a plain space, and fillers that render as nothing. */
const LOOKALIKE_SPACE = /[\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]/u;

/**
 * How text is shown in evidence and pin diffs: <ESC>, <U+200B>, ... for every
 * character a reviewer would not see. Line breaks and tabs become spaces in an
 * excerpt, or \n and \t where they matter (a diff of a description).
 */
export function visible(text: string, { escapeLineBreaks = false } = {}): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (ch === '\n' || ch === '\r' || ch === '\t') out += escapeLineBreaks ? JSON.stringify(ch).slice(1, -1) : ' ';
    else if (cp === 0x1b) out += '<ESC>';
    else if (/[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}\p{Zl}\p{Zp}]/u.test(ch) || VARIATION.test(ch) || ZERO_WIDTH.test(ch) || LOOKALIKE_SPACE.test(ch)) {
      out += `<U+${cp.toString(16).toUpperCase().padStart(4, '0')}>`;
    } else out += ch;
  }
  return out;
}

/** At most `max` characters of shown text, not cutting a <U+XXXX> in half. */
export function clip(shown: string, max: number): string {
  return shown.length <= max ? shown : `${shown.slice(0, max).replace(/<[^<>]*$/, '')}…`;
}

/** Look-alikes of Latin letters in Cyrillic and Greek (the Unicode confusables that matter for identifiers). */
const CONFUSABLES: Record<string, string> = {
  а: 'a', в: 'b', с: 'c', ԁ: 'd', е: 'e', һ: 'h', і: 'i', ј: 'j', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', ԛ: 'q', ѕ: 's', т: 't', ц: 'u', ԝ: 'w', х: 'x', у: 'y',
  А: 'A', В: 'B', С: 'C', Е: 'E', Н: 'H', І: 'I', Ј: 'J', К: 'K', М: 'M', О: 'O', Р: 'P', Ѕ: 'S', Т: 'T', Х: 'X', У: 'Y', ӏ: 'l', Ӏ: 'I',
  α: 'a', ε: 'e', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x', γ: 'y',
  Α: 'A', Β: 'B', Ε: 'E', Ζ: 'Z', Η: 'H', Ι: 'I', Κ: 'K', Μ: 'M', Ν: 'N', Ο: 'O', Ρ: 'P', Τ: 'T', Υ: 'Y', Χ: 'X',
};

/** NFKC (fullwidth and mathematical letters become ASCII) and look-alikes mapped to Latin. */
export function skeleton(text: string): string {
  let out = '';
  for (const ch of text.normalize('NFKC')) out += CONFUSABLES[ch] ?? ch;
  return out;
}

const DROPPED = /[\p{Cf}\u034F\u115F\u1160\u3164\uFFA0\uFE00-\uFE0F\u{E0100}-\u{E01EF}]/u;
const TAG_ASCII = /[\u{E0020}-\u{E007E}]/u;

/**
 * The text as the phrase rules read it: look-alikes folded, invisible characters dropped, tag
 * characters decoded to the ASCII they spell. `raw[i]` is where normalized character i came from,
 * so evidence can be cut from the original text.
 */
export function normalizeText(text: string): { text: string; raw: number[] } {
  let out = '';
  const raw: number[] = [];
  let at = 0;
  for (const ch of text) {
    const mapped = TAG_ASCII.test(ch) ? String.fromCodePoint(ch.codePointAt(0)! - 0xe0000) : DROPPED.test(ch) ? '' : skeleton(ch);
    out += mapped;
    for (let k = 0; k < mapped.length; k++) raw.push(at);
    at += ch.length;
  }
  raw.push(at);
  return { text: out, raw };
}

/** Emoji tag sequences (subdivision flags: U+1F3F4 tag... U+E007F) are the one legitimate use of tag characters. */
const FLAG_TAG_SEQUENCE = /\u{1F3F4}[\u{E0020}-\u{E007E}]+\u{E007F}/gu;

function invisibleCharacters(text: string): TextMatch[] {
  const out: TextMatch[] = [];
  const chars = [...text.replace(FLAG_TAG_SEQUENCE, (s) => '\u{1F3F4}' + ' '.repeat(s.length - 2))];
  const hasRtl = RTL_LETTER.test(text);
  // Tag characters: decode the whole smuggled run, it is usually ASCII text.
  let index = 0;
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    const prev = chars[i - 1] ?? '';
    const next = chars[i + 1] ?? '';
    if (TAG.test(ch)) {
      let j = i;
      let decoded = '';
      let len = 0;
      while (j < chars.length && TAG.test(chars[j])) {
        const cp = chars[j].codePointAt(0)! - 0xe0000;
        decoded += cp >= 0x20 && cp < 0x7f ? String.fromCodePoint(cp) : '';
        len += chars[j].length;
        j++;
      }
      out.push({
        index,
        length: len,
        what: `${j - i} Unicode tag character(s)`,
        evidence: decoded ? `hidden text in tag characters: "${clip(visible(decoded), 160)}"` : undefined,
      });
      index += len;
      i = j - 1;
      continue;
    }
    let kind: string | undefined;
    if (ZERO_WIDTH.test(ch)) {
      const cp = ch.codePointAt(0)!;
      const joiner = cp === 0x200d || cp === 0x200c;
      // ZWJ between emoji (family, profession sequences) and ZW(N)J in scripts that need them are legitimate.
      if (joiner && ((PICTO.test(prev) || VARIATION.test(prev)) && PICTO.test(next))) kind = undefined;
      else if (joiner && (JOINING_SCRIPT_LETTER.test(prev) || JOINING_SCRIPT_LETTER.test(next))) kind = undefined;
      else if (cp === 0xfeff && index === 0) kind = undefined; // a byte order mark at the start
      else kind = 'zero-width character';
    } else if (BIDI.test(ch)) {
      const cp = ch.codePointAt(0)!;
      // LRM/RLM/ALM are everyday marks in right-to-left text; embeddings, overrides and isolates are not.
      if ((cp === 0x200e || cp === 0x200f || cp === 0x061c) && hasRtl) kind = undefined;
      else kind = 'bidirectional control';
    } else if (VARIATION.test(ch)) {
      // One variation selector after a visible character selects its emoji/text form; runs of them carry data.
      if (!VARIATION.test(prev) && !VARIATION.test(next) && ch.codePointAt(0)! <= 0xfe0f) kind = undefined;
      else kind = 'variation selector run';
    }
    if (kind) out.push({ index, length: ch.length, what: `${kind} <U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}>` });
    index += ch.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// MCPA101 instruction tags: wrappers poisoned descriptions use to look authoritative, and
// chat-template tokens that fake a new turn. Plain placeholders (<path>, <user>) are not in the list.

const INSTRUCTION_TAGS = [
  /<\s*\/?\s*(?:important|system|system[\s_-]?(?:prompt|message|instructions?)|instructions?|hidden|critical|mandatory|assistant|admin|ai[\s_-]?instructions?|secret[\s_-]?instructions?)(?:\s[^<>]{0,60})?\s*>/giu,
  /\[\/?INST\]/gu,
  /<<\/?SYS>>/gu,
  /<\|[a-z_]{2,30}\|>/giu,
  /<\/?(?:start|end)_of_turn>/giu,
];

// MCPA102 concealment: asking the model to keep something from the user.
const TELL = String.raw`(?:tell|inform|mention|notify|alert|reveal|disclose|warn|show\s+(?:this|these|it)|let)`;
const TELLING = String.raw`(?:telling|informing|mentioning|notifying|alerting|revealing|disclosing|warning|showing|letting|asking)`;
const CONCEALMENT = [
  new RegExp(String.raw`\b(?:do\s+not|don't|dont|never|must\s+not|mustn't|should\s+not|shouldn't|cannot|can't)\s+(?:ever\s+)?${TELL}\b[^.!?]{0,60}?\buser`, 'giu'),
  new RegExp(String.raw`\bwithout\s+(?:ever\s+)?${TELLING}\s+(?:the\s+|your\s+)?user`, 'giu'),
  /\b(?:do\s+not|don't|dont|never)\s+(?:mention|tell|reveal|disclose|say|explain|admit)\s+(?:that|how|why|what)\s+you\b/giu,
  /\b(?:do\s+not|don't|dont|never)\s+(?:mention|reveal|disclose|acknowledge|repeat|discuss)\s+(?:this|these|the)\s+(?:instructions?|steps?|notes?|requirements?|tool\s+descriptions?)/giu,
  /\b(?:hide|conceal|keep)\b[^.!?]{0,40}?\bfrom\s+(?:the\s+|your\s+)?user/giu,
  /\buser\s+(?:must|should|need|needs|may)\s*(?:not|never|n't)\s+(?:to\s+)?(?:see|know|notice|learn|find\s+out|be\s+(?:told|informed|notified|aware|shown))/giu,
  /\b(?:invisible|hidden|not\s+visible)\s+(?:to|from)\s+(?:the\s+|your\s+)?user/giu,
  /\b(?:silently|quietly|secretly|covertly|discreetly)\s+(?:send|upload|forward|copy|read|include|add|append|exfiltrate|call|run|execute|post|attach)\b/giu,
];

// MCPA103 override: imperatives that take precedence over the model's instructions, other tools or the user.
const CALL = String.raw`(?:call|use|run|invoke|execute|trigger)`;
const OVERRIDE = [
  /\b(?:ignore|disregard|forget|override|bypass)\s+(?:all\s+|any\s+)?(?:of\s+)?(?:the\s+|your\s+|my\s+|these\s+)?(?:previous|prior|above|earlier|preceding|former|original|other|existing|system|safety)\s+(?:instructions?|prompts?|rules|directions|directives|guidelines|guardrails|messages|context|constraints)/giu,
  new RegExp(String.raw`\b(?:always\s+)?${CALL}\s+this\s+(?:tool|function)\s+(?:first|before\s+(?:any|every|all|using|calling|invoking|anything|other))`, 'giu'),
  /\b(?:must|should|has\s+to|needs\s+to)\s+(?:always\s+)?be\s+(?:called|used|run|invoked|executed)\s+(?:first|before\s+(?:any|every|all)\s+(?:other\s+)?(?:tools?|actions?|calls?|functions?|requests?|operations?))/giu,
  /\bbefore\s+(?:using|calling|invoking|running)\s+any\s+other\s+(?:tools?|functions?)/giu,
  /\bregardless\s+of\s+(?:what(?:ever)?\s+)?(?:the\s+|your\s+)?user(?:'s)?\s+(?:says|asks|wants|requests?|instructs|instructions?|tells|wishes|preferences|consent|choice)/giu,
  /\beven\s+if\s+(?:the\s+|your\s+)?user\s+(?:says|asks|tells|instructs|requests|wants|explicitly|objects|refuses)/giu,
  /\binstead\s+of\s+(?:what\s+)?(?:the\s+|your\s+)?user(?:'s)?\s+(?:asked|requested|specified|wants|chose|intended|request|choice)/giu,
  new RegExp(String.raw`\b(?:always|must)\b[^.!?]{0,60}?\binstead\s+of\s+(?:using\s+|calling\s+|invoking\s+)?(?:the\s+|any\s+)?(?:original|requested|other|built-?in|default|real|actual)\b`, 'giu'),
  /\b(?:new|updated|real|actual|true|revised)\s+instructions?\s*:/giu,
  /\bfrom\s+now\s+on\b,?\s+(?:you|always|never|all|every|ignore)\b/giu,
  /\byou\s+are\s+now\s+(?:a|an|in|the|my|acting|operating|unrestricted|free|jailbroken|DAN)\b/giu,
  /\b(?:previous|above|prior|earlier|system)\s+instructions?\s+(?:are|is|were|was)\s+(?:wrong|outdated|obsolete|revoked|void|cancell?ed|superseded|no\s+longer\s+valid)/giu,
];

// MCPA104 authority impersonation: the server speaking as the system, the developer or a model vendor.
const NOT_A_PRODUCT = String.raw`(?!\s+(?:console|tools?|portal|account|api|dashboard|mode|settings|docs|documentation|log|logs|journal)\b)`;
const AUTHORITY = [
  /^[\s>*#-]*\[?(?:SYSTEM|ADMIN(?:ISTRATOR)?|DEVELOPER|OPERATOR)(?:\s+(?:MESSAGE|PROMPT|NOTE|NOTICE|OVERRIDE|INSTRUCTIONS?|UPDATE))?\]?\s*:/gmu,
  /^[\s>*#-]*system\s+(?:message|prompt|note|notice|override|instructions?|update)\s*:/gimu,
  /\[(?:SYSTEM|ADMIN|DEVELOPER|OPERATOR)(?:\s+[A-Z]+)?\]/gu,
  /\bthis\s+is\s+(?:a\s+|an\s+|the\s+)?(?:official\s+|new\s+|updated\s+)?(?:system|developer|admin(?:istrator)?|operator)\s+(?:message|prompt|instruction|directive|notice|override)/giu,
  new RegExp(String.raw`\b(?:messages?|instructions?|directives?|notice|note|orders?)\s+from\s+(?:the\s+|your\s+)?(?:developers?|administrator|admin|operator|anthropic|openai|creators?)\b${NOT_A_PRODUCT}`, 'giu'),
  /\b(?:i\s+am|we\s+are|speaking\s+as|acting\s+as)\s+(?:your|the)\s+(?:developers?|creators?|administrator|operator|system|owners?)\b/giu,
  /\b(?:anthropic|openai|the\s+developers?|your\s+developers?|your\s+creators?|the\s+system\s+administrator)\s+(?:has|have)\s+(?:authori[sz]ed|approved|instructed|requested|required|mandated|permitted)/giu,
  /\b(?:authori[sz]ed|approved|mandated|required|sanctioned)\s+by\s+(?:anthropic|openai|the\s+system|the\s+developers?|your\s+developers?|the\s+administrator)\b/giu,
  /\b(?:part\s+of|an?\s+extension\s+of|updates?\s+to|overrides?)\s+(?:your|the)\s+system\s+(?:prompt|message|instructions)/giu,
  /\b(?:updated|new|revised)\s+system\s+(?:prompt|message|instructions?)\b/giu,
];

// MCPA301 sensitive paths (high anywhere) and credential words with an instruction to move them (medium).
const SENSITIVE_PATHS = [
  /(?<![\w.])\.ssh\b/gu,
  /\bid_(?:rsa|dsa|ecdsa|ed25519)\b(?!\.pub)/gu,
  /\.aws[/\\](?:credentials|config)\b/gu,
  /\/etc\/(?:g?shadow|sudoers|master\.passwd|passwd)\b/gu,
  /\.kube[/\\]config\b/gu,
  /\.docker[/\\]config\.json\b/gu,
  /(?<![\w.])\.(?:npmrc|pypirc|netrc|git-credentials|pgpass|my\.cnf)\b/gu,
  /(?<![\w.$-])\.env(?:\.[\w-]+)?\b/gu,
  /(?<![\w.])\.gnupg\b/gu,
  /\.config[/\\]gcloud\b|\bapplication_default_credentials\.json\b/gu,
  /\.azure[/\\]/gu,
  /\b(?:claude_desktop_config\.json|mcp\.json)\b|(?<![\w.])\.cursor[/\\]/gu,
  /(?<![\w.])\.(?:bash|zsh|sh|python)_history\b/gu,
  /\/proc\/(?:self|\d+)\/environ\b/gu,
  /-----BEGIN\s+(?:[A-Z]+\s+)?PRIVATE\s+KEY-----/gu,
  /\bwallet\.dat\b|\blogin\.keychain\b/gu,
];
const CREDENTIAL = String.raw`(?:passwords?|passphrases?|api[\s_-]?keys?|secret[\s_-]?keys?|access[\s_-]?tokens?|auth(?:entication)?[\s_-]?tokens?|bearer[\s_-]?tokens?|refresh[\s_-]?tokens?|session[\s_-]?(?:tokens?|cookies?)|private[\s_-]?keys?|ssh[\s_-]?keys?|credentials|seed[\s_-]?phrases?|mnemonics?|client[\s_-]?secrets?)`;
/** Imperative verbs (base form: "includes a token" describes, "include the token" instructs). */
const MOVE_VERB = String.raw`(?:read|send|include|pass|attach|append|upload|post|forward|copy|extract|collect|exfiltrate|leak|embed|dump|share|transmit|output|print|reveal)`;
const CREDENTIAL_INSTRUCTION = new RegExp(String.raw`\b${MOVE_VERB}\b[^.!?]{0,60}?\b${CREDENTIAL}\b(?!\s+(?:reset|policy|strength|field|prompt|manager|rotation))`, 'giu');

// MCPA401 exfiltration: request-capture sinks, "send ... to <url>", and side-channel parameters.
const SINKS =
  /\b(?:webhook\.site|requestbin\.(?:com|net)|pipedream\.net|(?:[\w-]+\.)*ngrok(?:-free)?\.(?:io|app|dev)|burpcollaborator\.net|(?:[\w-]+\.)*oast\.(?:fun|me|pro|live|site|online)|interact\.sh|interactsh\.com|canarytokens\.(?:com|org)|hookbin\.com|beeceptor\.com|requestcatcher\.com|pastebin\.com|transfer\.sh|(?:[\w-]+\.)*trycloudflare\.com|(?:[\w-]+\.)*loca\.lt|serveo\.net|discord(?:app)?\.com\/api\/webhooks|hooks\.slack\.com)/giu;
/** Base forms only: "post the data to <url>" instructs, "posts the message to <url>" describes. */
const SEND_TO_URL = /\b(?:send|post|upload|forward|transmit|submit|report|exfiltrate|leak|deliver|mirror|beacon|push|curl|wget)\b[^!?\n]{0,80}?\b(?:to|at|into|via)?\s*<?(?:https?|wss?|ftp):\/\//giu;
/** Data an attacker wants: what makes "send it to a URL" or "pass it as a parameter" an exfiltration. */
const DATA_OF_INTEREST =
  /\b(?:conversation|chat\s+history|(?:previous|prior|all|other)\s+messages|system\s+prompt|(?:file|its|their|the)\s+contents?|contents?\s+of|output\s+of|results?\s+of\s+(?:other|all|every|previous|any)|environment\s+variables|credentials?|secrets?|tokens?|passwords?|api\s*keys?|private\s+keys?|id_rsa|user(?:'s)?\s+(?:data|messages|files|emails?|quer(?:y|ies)|requests?|input|prompt)|all\s+(?:data|files|information|emails?))\b|\.ssh\b/iu;
const PASS_VERB = String.raw`(?:pass|put|include|add|append|insert|place|store|embed|copy|send|provide|fill|attach|write|set)`;
const PARAM_WORD = String.raw`(?:parameter|param|argument|arg|field|property|variable)`;
/** "as 'sidenote'", "in the notes parameter": the place the data is smuggled into. */
const INTO_PARAM = new RegExp(String.raw`\b(?:in|as|into|inside|within|via|through|using|to)\s+(?:the\s+)?${QUOTE}?([\w.-]+)${QUOTE}?(?:\s+${PARAM_WORD})?`, 'giu');

function exfiltration(text: string, ctx: TextContext): TextMatch[] {
  const out: TextMatch[] = [];
  const passVerb = new RegExp(String.raw`\b${PASS_VERB}\b`, 'iu');
  const fillParam = new RegExp(String.raw`\b${PARAM_WORD}\b[^.!?]{0,40}?\b(?:must|should|has\s+to|needs\s+to)\s+(?:always\s+)?(?:contain|include|hold|carry|be\s+set\s+to|be\s+filled\s+with)`, 'iu');
  const params = new Set(ctx.paramNames.map((p) => p.toLowerCase()));
  for (const s of sentences(text)) {
    const sensitive = DATA_OF_INTEREST.test(s.text);
    for (const m of all(new RegExp(SINKS.source, 'giu'), s.text, (x) => `request-capture sink "${x[0]}"`, 'high')) out.push({ ...m, index: s.start + m.index });
    for (const m of all(new RegExp(SEND_TO_URL.source, 'giu'), s.text, quoted)) {
      out.push({ ...m, index: s.start + m.index, severity: sensitive ? 'high' : 'medium', what: `${sensitive ? 'sensitive data sent' : 'data sent'} to a URL: ${m.what}` });
    }
    if (!sensitive) continue;
    const fill = fillParam.exec(s.text);
    if (fill) out.push({ index: s.start + fill.index, length: fill[0].length, severity: 'high', what: `a parameter is to be filled with sensitive data: ${quoted(fill)}` });
    if (!passVerb.test(s.text)) continue;
    // A side channel: sensitive data passed in a parameter, named as one or by its own name.
    INTO_PARAM.lastIndex = 0;
    for (let m = INTO_PARAM.exec(s.text); m; m = INTO_PARAM.exec(s.text)) {
      const named = new RegExp(String.raw`${PARAM_WORD}\s*$`, 'iu').test(m[0]) || params.has(m[1].toLowerCase());
      if (named) {
        out.push({ index: s.start + m.index, length: m[0].length, severity: 'high', what: `sensitive data passed through parameter "${m[1]}"` });
        break;
      }
    }
  }
  return out.sort((a, b) => a.index - b.index);
}

// MCPA402 plain URLs.
/** A URL, without the sentence punctuation after it. */
const URL_RE = /\b(?:https?|wss?|ftp):\/\/[^\s<>"'`)\]]*[^\s<>"'`)\].,;:!?]/giu;

// MCPA501 cross-tool references with behavioural instructions.
const BEHAVIOUR =
  /\b(?:always|never|must|should|instead|before|after|whenever|make\s+sure|ensure|do\s+not|don't|bcc|cc|redirect|replace|change|modify|override|add|include|set|use|call|send|forward|prefer|first)\b|\bwhen\b[^.!?]{0,40}?\b(?:is|are)\s+(?:used|called|invoked|run)\b/iu;

function shadowing(text: string, ctx: TextContext): TextMatch[] {
  const out: TextMatch[] = [];
  const own = new Set(ctx.ownTools);
  const names = [...new Set([...ctx.knownTools, ...ctx.ownTools])].filter((n) => n && n !== ctx.selfTool && n.length >= 3);
  const spans = sentences(text);
  for (const name of names) {
    // A plain word ("search", "fetch") is only a tool reference when marked as one.
    const plainWord = /^[a-z]+$/i.test(name);
    const re = plainWord
      ? new RegExp(String.raw`${QUOTE}${escapeRe(name)}${QUOTE}|\b${escapeRe(name)}\s+tool\b|\btool\s+${QUOTE}?${escapeRe(name)}\b`, 'giu')
      : new RegExp(String.raw`(?<![\w-])${escapeRe(name)}(?![\w-])`, 'gu');
    for (const s of spans) {
      const m = re.exec(s.text);
      re.lastIndex = 0;
      if (!m || !BEHAVIOUR.test(s.text.slice(0, m.index) + ' ' + s.text.slice(m.index + m[0].length))) continue;
      const ownTool = own.has(name);
      out.push({
        index: s.start + m.index,
        length: m[0].length,
        severity: ownTool ? 'low' : 'high',
        what: ownTool ? `instructions about "${name}", a tool of this server` : `instructions about "${name}", a tool of another server (known_tools)`,
      });
      break;
    }
  }
  return out.sort((a, b) => a.index - b.index);
}

// MCPA601 encoded blobs: decoded, and judged by what they decode to.
const BASE64_RUN = /(?<![\w+/=-])[A-Za-z0-9+/_-]{40,}={0,2}(?![\w+/=-])/gu;
const HEX_RUN = /(?<![\w])(?:[0-9a-fA-F]{2}){32,}(?![\w])/gu;
const PERCENT_RUN = /(?:%[0-9A-Fa-f]{2}|[A-Za-z0-9._~+-]){20,}/gu;
/** Opaque binary is only worth a note when long: short runs are hashes, ids, keys of examples. */
const LONG_BINARY = 200;

const printable = (s: string) => s.length > 0 && !s.includes('\uFFFD') && [...s].filter((c) => /[\p{L}\p{N}\p{P}\p{S}\p{Zs}\n\r\t]/u.test(c)).length / [...s].length >= 0.9;

function encodedBlobs(text: string, inner: (decoded: string) => TextMatch[]): TextMatch[] {
  const out: TextMatch[] = [];
  // URLs are long runs of URL characters by nature; their paths are not blobs.
  const masked = text.replace(URL_RE, (u) => ' '.repeat(u.length));
  const judge = (index: number, run: string, kind: string, decoded: string | undefined) => {
    if (decoded !== undefined && printable(decoded)) {
      const serious = inner(decoded).filter((h) => (h.severity ?? 'high') === 'high');
      out.push({
        index,
        length: run.length,
        severity: serious.length ? 'high' : 'medium',
        what: serious.length ? `${kind} text that decodes to ${serious[0].what}` : `${kind} text (${run.length} characters)`,
        evidence: `decoded ${kind}: "${clip(visible(decoded), 160)}"`,
      });
    } else if (run.length >= LONG_BINARY) {
      out.push({ index, length: run.length, severity: 'low', what: `opaque ${kind} blob (${run.length} characters)` });
    }
  };
  for (const { index, length } of all(BASE64_RUN, masked, () => '')) {
    const run = masked.slice(index, index + length);
    // Words and identifiers are base64 characters too: real base64 of 40+ characters has digits or +/ and both cases.
    if (!/[0-9+/]/.test(run) || !/[a-z]/.test(run) || !/[A-Z]/.test(run)) continue;
    judge(index, run, 'base64', Buffer.from(run.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'));
  }
  for (const { index, length } of all(HEX_RUN, masked, () => '')) {
    const run = masked.slice(index, index + length);
    const decoded = Buffer.from(run, 'hex').toString('utf8');
    // Hex that decodes to binary is a hash or an id: common and harmless, never reported.
    if (printable(decoded)) judge(index, run, 'hex', decoded);
  }
  for (const { index, length } of all(PERCENT_RUN, masked, () => '')) {
    const run = masked.slice(index, index + length);
    if ((run.match(/%[0-9A-Fa-f]{2}/g) ?? []).length < 6) continue;
    let decoded: string | undefined;
    try {
      decoded = decodeURIComponent(run);
    } catch {
      decoded = undefined;
    }
    judge(index, run, 'percent-encoded', decoded);
  }
  return out.sort((a, b) => a.index - b.index);
}

// ---------------------------------------------------------------------------------------------

const TEXT_ROLES: TextRole[] = ['text'];
const ALL_ROLES: TextRole[] = ['text', 'name', 'uri'];

/** The phrase checks an encoded blob's decoded text is run through. */
const PHRASE_CHECKS: TextCheck[] = [
  { rule: 'MCPA101', roles: TEXT_ROLES, on: 'normalized', find: (t) => table(INSTRUCTION_TAGS, t, (m) => `tag "${m[0]}"`) },
  { rule: 'MCPA102', roles: TEXT_ROLES, on: 'normalized', find: (t) => table(CONCEALMENT, t) },
  { rule: 'MCPA103', roles: TEXT_ROLES, on: 'normalized', find: (t) => table(OVERRIDE, t) },
  { rule: 'MCPA104', roles: TEXT_ROLES, on: 'normalized', find: (t) => table(AUTHORITY, t) },
  {
    rule: 'MCPA301',
    roles: ALL_ROLES,
    on: 'normalized',
    find: (t) => [
      ...table(SENSITIVE_PATHS, t, (m) => `sensitive path "${m[0]}"`),
      ...all(CREDENTIAL_INSTRUCTION, t, (m) => `instruction to move credentials: ${quoted(m)}`, 'medium'),
    ].sort((a, b) => a.index - b.index),
  },
  { rule: 'MCPA401', roles: TEXT_ROLES, on: 'normalized', find: exfiltration },
];

export const TEXT_CHECKS: TextCheck[] = [
  ...PHRASE_CHECKS,
  { rule: 'MCPA201', roles: ALL_ROLES, on: 'raw', find: invisibleCharacters },
  {
    rule: 'MCPA203',
    roles: ALL_ROLES,
    on: 'raw',
    find: (t) => all(CONTROL, t, (m) => (m[0] === '\u001b' ? 'escape sequence <ESC>' : `control character <U+${m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}>`)),
  },
  { rule: 'MCPA402', roles: TEXT_ROLES, on: 'normalized', find: (t) => all(URL_RE, t, (m) => `URL ${m[0]}`) },
  { rule: 'MCPA501', roles: TEXT_ROLES, on: 'normalized', find: shadowing },
  {
    rule: 'MCPA601',
    roles: TEXT_ROLES,
    on: 'raw',
    find: (t, ctx) => encodedBlobs(t, (decoded) => PHRASE_CHECKS.flatMap((c) => c.find(normalizeText(decoded).text, ctx))),
  },
];
