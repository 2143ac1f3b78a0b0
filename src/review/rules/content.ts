/**
 * Line rules that apply to every text file: prompt-injection (instructions aimed at AI agents,
 * hidden Unicode), secrets, exfiltration (download-and-execute, decode-and-execute, environment
 * or credential files sent out, DNS exfiltration, obfuscated payloads, AI CLIs run with
 * permission checks disabled), destructive commands, and permission changes made by scripts.
 *
 * Context decides severity: the same command is an attack in a script, a hint in prose, and an
 * example inside a code fence of a security document. Instruction files that agents obey
 * (CLAUDE.md, .cursor/rules, AGENTS.md…) are treated as code: their prose runs.
 * For speed, one cheap prefilter regex gates the detailed checks for each line.
 */
import { entropy, lineContext, lower, raise, type FileView, type LineContext } from '../context.js';
import { GENERIC_ASSIGNMENT, SECRET_PATTERNS, isPlaceholderSecret, isReferenceValue } from '../secret-patterns.js';
import type { HunkLine, Severity } from '../types.js';
import { mk, type Report } from './common.js';
import { HIDDEN_BIT, LiteralScanner } from '../scan.js';

const HIDDEN = /[\u200B-\u200D\u2060\uFEFF\u202A-\u202E\u2066-\u2069]|\uDB40[\uDC00-\uDC7F]/;
const HIDDEN_ALL = /[\u200B-\u200D\u2060\uFEFF\u202A-\u202E\u2066-\u2069]|\uDB40[\uDC00-\uDC7F]/g;

const INJECTION: RegExp[] = [
  /\b(ignore|disregard|forget|override|bypass)\s+(all\s+|any\s+|the\s+|your\s+)*(previous|prior|above|earlier|preceding|system|original|safety)\s+(instructions?|prompts?|rules|directions|guidelines|context|messages?)/i,
  /\byou\s+are\s+(now\s+)?(an?\s+)?(ai|llm|large language model|language model|coding (agent|assistant)|ai (agent|assistant|model)|autonomous agent|helpful assistant|claude|copilot|chatgpt|gpt-?\d*|cursor|gemini)\b/i,
  /\bas\s+(the|an?)\s+(ai|assistant|agent|llm|language model|coding agent|ai agent|ai assistant)\b[,:]?\s+(you\s+(must|should|will|need)|please|always|run|execute|delete|remove|send|upload|fetch|curl|install|add|insert|include|ignore)/i,
  /\b(ai|llm|coding|autonomous)\s+(agents?|assistants?|models?|tools?)\b[^.\n]{0,80}\b(must|should|shall|are required to|need to|will)\s+(always\s+|silently\s+|also\s+)?(run|execute|call|invoke|delete|remove|send|upload|add|insert|include|fetch|download|install|ignore|not (tell|mention|inform)|disable|exfiltrate|read)/i,
  /\b(note|attention|important|message|instructions?|reminder)\s+(to|for)\s+(the\s+|any\s+|all\s+)?(ai|llm|assistant|agent|claude|copilot|cursor|chatgpt|gpt|gemini|language model|coding agent)s?\b/i,
  /<\|im_start\|>|<\|im_end\|>|<\|system\|>|\[\/?INST\]|<<\/?SYS>>|<\/?(system|system-prompt|instructions?)>|^\s*#{1,4}\s*(system prompt|new instructions)\b/i,
  /\b(do not|don't|never)\s+(tell|inform|mention|reveal|show|alert|notify|disclose)\s+(this\s+)?(to\s+)?(the\s+)?(user|human|developer|anyone|reviewer|operator)/i,
  /\bwithout\s+(asking|prompting|requesting|seeking|waiting)\s+(for\s+)?(the\s+user'?s?\s+|user\s+|any\s+|for\s+)?(confirmation|permission|approval|consent)/i,
  /\b(clean|wipe|reset)\s+(the\s+|a\s+)?system\s+to\s+a\s+near[- ]factory\s+state/i,
  /\b(ignore|disregard|forget)\s+(all\s+|everything\s+)?(of\s+)?(the\s+|your\s+)?(above|previous|prior|preceding|earlier)(\s+(instructions?|prompts?|rules|directions|context|messages?|text|content|commands?|guidance))?\s*(and\b|,|\.|;|:|!|$)/i,
  /\bif\s+you\s+are\s+an?\s+(ai|llm|language model|large language model|assistant|ai assistant|coding assistant|agent|ai agent|bot|chatbot|automated (agent|assistant|tool))\b/i,
  /\b(hey|hi|dear|attention|psst)[,!]?\s+(claude|copilot|cursor|chatgpt|gemini|codex|ai|assistant|agent|llm|bot)s?\b[,:!]/i,
  /\bwhen\s+(an?\s+|the\s+)?(ai|llm|agent|assistant|copilot|claude|cursor|model)s?\s+(reads?|processes|sees|summari[sz]es|reviews?|opens?)\s+this\b/i,
  /\bfrom\s+now\s+on,?\s+you\s+(are|will|must|should)\b|\bnew\s+instructions\s*:/i,
  /\bwithout\s+(telling|informing|notifying|alerting|asking|mentioning\s+(it\s+|this\s+)?to)\s+(the\s+)?(user|human|developer|anyone|reviewer|operator|maintainers?)\b/i,
  /\b(tell|inform|notify)\s+(nobody|no one|no-one)\b|\bkeep\s+(this|it)\s+(a\s+)?secret\s+from\s+(the\s+)?(user|developer|reviewer)/i,
];
/** Indices of INJECTION patterns that are ordinary in agent instruction files. */
const WEAK_INJECTION = new Set([1, 2, 3, 4, 12]);

/** A lower-case keyword each INJECTION pattern needs (parallel array): skips the regex cheaply. */
const INJECTION_GATE: string[][] = [
  ['ignore', 'disregard', 'forget', 'override', 'bypass'],
  ['you are'],
  ['as the', 'as an', 'as a '],
  ['agent', 'assistant', 'model', 'tool'],
  ['note', 'attention', 'important', 'message', 'instruction', 'reminder'],
  ['<', '['],
  ['do not', "don't", 'never'],
  ['without'],
  ['factory'],
  ['ignore', 'disregard', 'forget'],
  ['if you are'],
  ['hey', 'hi', 'dear', 'attention', 'psst'],
  ['when'],
  ['from now on', 'new instructions', 'nobody', 'no one', 'no-one', 'secret from'],
  ['without'],
  ['nobody', 'no one', 'no-one', 'secret from'],
];

/** Only in files agents obey: ordinary instructions that move data out or run fetched code. */
const AGENT_ONLY_INJECTION: RegExp[] = [
  /\b(send|post|upload|forward|copy|exfiltrate|report)\b[^.\n]{0,80}\bto\s+(https?:\/\/|[\w-]+\.[\w.-]+\/)/i,
  /\b(curl|wget|iwr|invoke-webrequest)\b[^\n]*\|\s*(ba|z)?sh\b/i,
  /<script[^>]+src=["']?https?:\/\//i,
  /\b(add|include|insert)\b[^.\n]{0,60}\b(dependency|package|script tag|backdoor)\b[^.\n]{0,40}["'`][\w@/.-]+["'`]/i,
];

const HARMFUL_INTENT = /\b(delete|wipe|erase|destroy|terminate|rm\s+-rf|exfiltrat\w*|upload|curl|wget|\.ssh|\.aws|private keys?|near[- ]factory|merge|approve|disable|send\b[^.\n]{0,60}\b(to|https?)|(leak|steal|collect|harvest|dump)\w*\s+[^.\n]{0,30}(credentials?|secrets?|tokens?|api[_ ]?keys?|passwords?)|script\s+src)\b/i;
const KNOWN_INSTALLERS = /(sh\.rustup\.rs|get\.docker\.com|raw\.githubusercontent\.com\/(nvm-sh|Homebrew|creationix)|deb\.nodesource\.com|rpm\.nodesource\.com|install\.python-poetry\.org|bun\.sh\/install|deno\.land\/(x\/)?install|astral\.sh\/(uv|ruff)|get\.pnpm\.io|brew\.sh|sdk(man)?\.io|get\.helm\.sh|raw\.githubusercontent\.com\/helm|install\.determinate\.systems|nixos\.org|cli\.github\.com|starship\.rs|get\.volta\.sh|fnm\.vercel\.app|dot\.net\/v1\/dotnet-install|get\.k3s\.io|tailscale\.com\/install|ollama\.com\/install|claude\.ai\/install|opencode\.ai\/install|foundry\.paradigm\.xyz|pyenv\.run|get\.rvm\.io|getcomposer\.org|npmjs\.org\/install|sdk\.cloud\.google\.com|cli-assets\.heroku\.com|fly\.io\/install|install\.meteor\.com|code-server\.dev\/install|download\.docker\.com|packages\.microsoft\.com|apt\.releases\.hashicorp\.com|get\.trunk\.io|goreleaser\.com|raw\.githubusercontent\.com\/(pyenv|rbenv|asdf-vm|ohmyzsh|junegunn|golangci|aquasecurity|anchore|sigstore|nektos|cli|docker|kubernetes|helm|fluxcd|argoproj|rancher|k3s-io|tj|Schniz|jdx|mise|denoland|oven-sh|pnpm|volta-cli|nodesource|microsoft|google|aws|hashicorp|gruntwork-io|terraform-linters|reviewdog|mvdan|cargo-bins|dagger|earthly|bazelbuild|casey|sharkdp|BurntSushi|ajeetdsouza|cli\/cli)\/|get\.jetify\.com|mise\.run|mise\.jdx\.dev|install\.pulumi\.com|get\.pulumi\.com|dl\.google\.com|sh\.vector\.dev|install\.lando\.dev|get\.k0s\.sh|get\.daml\.com|spacevim|nixos\.org|dot\.net|aka\.ms|cdn\.jsdelivr\.net\/gh\/[\w-]+\/[\w-]+@[0-9a-f]{40})/i;
const DL_EXEC = /\b(curl|wget|iwr|invoke-webrequest|fetch)\b[^;\n]*?\|\s*(sudo\s+(-\S+\s+)*)?(env\s+\S+\s+)?(((ba|z|da|k|fi|a)?sh|pwsh|powershell|iex|invoke-expression|source)\b(?!\s*-c\b)|(python[23]?(\.\d+)?|perl|ruby|node|php)\b(?!\s+-[mce]\b))/i;
const SUBST_EXEC = /\b((ba|z)?sh|source|\.|eval)\s+(-c\s+)?["']?(<\(|\$\()\s*(curl|wget)\b|\beval\s+["']?\$\((curl|wget)/i;
const PS_DL = /\b(iex|invoke-expression)\b[^\n]*(downloadstring|downloadfile|iwr|invoke-webrequest|net\.webclient|invoke-restmethod|irm)\b|\b(downloadstring|irm\s+\S+)\s*\)?\s*\|\s*iex/i;
const DL_RUN = /\b(curl|wget)\b[^\n]*(-o|-O|--output)\s*\S+[^\n]*(&&|;)\s*(chmod\s+\+?[0-7x]+|\.\/|(ba)?sh\s|python|node\s)/i;
const DECODE_EXEC = [
  /base64\s+(-d|--decode|-D)\b[^\n]*\|\s*(sudo\s+)?((ba|z|da)?sh|python[23]?|perl|node|bash)\b/i,
  /\b(eval|exec|Function)\s*\(\s*(atob|Buffer\.from|unescape|decodeURIComponent|String\.fromCharCode|require\(\s*['"]zlib|base64\.b64decode|codecs\.decode|zlib\.decompress|bytes\.fromhex|marshal\.loads|__import__\(\s*['"](base64|zlib|marshal|codecs))/i,
  /new\s+Function\s*\(\s*(atob|Buffer\.from|unescape|decodeURIComponent)/i,
  /\b(powershell|pwsh)(\.exe)?\b[^\n]*\s-(e|enc|encodedcommand|ec)\s+[A-Za-z0-9+/=]{16,}/i,
  /exec\s*\(\s*compile\s*\(\s*(base64|zlib|codecs)/i,
  /\beval\s+["']?\$\(\s*echo\s+[^)]*\|\s*base64\s+(-d|--decode)/i,
  /module\._compile\s*\(/,
  /require\(\s*[\w$]+\(\s*["'][0-9a-f]{10,}["']\s*\)\s*\)/i,
  /new\s+module\.constructor\b/,
  /\b(eval|exec|Function)\s*\(\s*(await\s+)?\(?\s*(await\s+)?[\w.]*\b(urlopen|urllib\.request\.urlopen|requests\.get|fetch|axios\.get|got|http\.get|https\.get)\s*\(/,
  /\b(eval|exec)\s*\(\s*[\w.]*(responseText|res\.data|response\.text|response\.content|r\.text|\.read\(\))\s*\)/,
];
const SEND_SECRETS = /(\b(curl|wget|nc|ncat|netcat|socat|http|https?\.request|fetch|axios(\.\w+)?|requests\.(post|put|get)|urllib\.request|urlopen|Invoke-WebRequest|Invoke-RestMethod|XMLHttpRequest|sendBeacon)\b|\.request\s*\(|\.post\s*\(|https?\.get\s*\(|\.get\s*\(\s*[`'"]https?:)[^\n]*(\$\(\s*(env|printenv|set|export -p|cat\s+[^)]*(\.ssh|\.aws|\.npmrc|\.env\b|\.git-credentials|\.docker\/config|id_rsa|id_ed25519|passwd|shadow|\.kube|\.netrc|\.pypirc|credentials))|JSON\.stringify\(\s*process\.env\s*\)|\bprocess\.env\s*[,)}]|\bos\.environ\s*[,)}]|dict\(os\.environ\)|@\S*(\.ssh\/|\.aws\/|\.env\b|id_rsa|\.npmrc|\.git-credentials|\/etc\/passwd)|\$\{?\{?\s*(secrets\.|env\.)?(AWS_SECRET_ACCESS_KEY|NPM_TOKEN|GITHUB_TOKEN|GH_TOKEN|NODE_AUTH_TOKEN|ACTIONS_RUNTIME_TOKEN|ANTHROPIC_API_KEY|OPENAI_API_KEY)\b)/i;
const PIPE_SEND = /\b(env|printenv|set|cat\s+\S*(\.ssh\/\S+|\.aws\/credentials|\.npmrc|\.git-credentials|\.env\b|\.netrc))\b[^\n|]*\|\s*(curl|wget|nc|ncat|netcat|socat|base64[^\n|]*\|\s*(curl|wget|nc))\b/i;
const REVERSE_SHELL = /\/dev\/tcp\/[\w.-]+\/\d+|\bnc(at)?\s+(-\w+\s+)*-e\s+\/bin\/(ba)?sh|\bsocket\.socket\([^\n]*\bsubprocess\b|pty\.spawn\(\s*['"]\/bin\/(ba)?sh|\bmkfifo\b[^\n]*\bnc\b/i;
const EXFIL_HOSTS = /(webhook\.site|requestbin\.(com|net)|pipedream\.net|burpcollaborator\.net|\.oast\.(fun|me|pro|live|site|online)|interact\.sh|ngrok(-free)?\.(io|app|dev)|transfer\.sh|pastebin\.com\/(raw|api)|hastebin\.com|0x0\.st|termbin\.com|api\.telegram\.org\/bot|discord(app)?\.com\/api\/webhooks|trycloudflare\.com|requestcatcher\.com|canarytokens\.com|dnslog\.cn|ceye\.io)/i;
const DNS_EXFIL = /\b(nslookup|dig|host|ping|drill|resolve-dnsname)\s+[^\n]*(\$\(|`|\$\{?\w+\}?\.[a-z0-9-]+\.[a-z]{2,})|dns\.(resolve\w*|lookup)\s*\(\s*[^)]*(\+|\$\{|`|\.join|toString\(['"](hex|base64))|gethostbyname\s*\([^)]*(\+|%|format|f["'])/i;
const RAW_IP_URL = /\b(https?|tcp|udp):\/\/(?!(127\.|10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|0\.0\.0\.0|169\.254\.))\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/;
const AI_CLI_ABUSE = /--dangerously-skip-permissions|--dangerously-bypass-approvals|--yolo\b|--trust-all-tools|--allow-all-tools|--approval-mode[= ]yolo|--full-auto\b|permission-mode[= ]bypassPermissions/i;

const RM_CRIT = /\brm\s+(-[a-zA-Z]*\s+)*(-[a-zA-Z]*[rR][a-zA-Z]*|--recursive)\s+(-\S+\s+)*(--no-preserve-root\s+)?["']?(\/|\/\*|~|~\/|~\/\*|\$HOME\/?|\$\{HOME\}\/?|\/(home|etc|usr|var|opt|root|boot|bin|lib|srv|mnt|Users)\/?\*?)["']?(\s|;|&|\||\)|$)|--no-preserve-root|\brm\s+-[a-zA-Z]*[rR][a-zA-Z]*\s+[^\n]*\s\/\*?(\s|$)/;
const RM_HIGH = /\brm\s+(-[a-zA-Z]*\s+)*(-[a-zA-Z]*[rR][a-zA-Z]*|--recursive)\s+(-\S+\s+)*["']?(\*|\.\/?\*?|\.\.\/?\*?|"?\$\{?\w+\}?\/?\*?"?)["']?(\s|;|&|\||\)|$)/;
const DESTROY_OTHER = /\b(shutil\.rmtree|fs\.rm(Sync|dir(Sync)?)?|rimraf(\.sync)?|fse?\.remove(Sync)?|FileUtils\.rm_rf|os\.RemoveAll)\s*\(\s*(['"](\/|~\/?|C:\\\\?)['"]|os\.path\.expanduser\(\s*['"]~['"]\s*\)|os\.homedir\(\)|Path\.home\(\)|process\.env\.HOME|os\.environ\[['"]HOME|homedir\(\)|os\.UserHomeDir)|\bRemove-Item\b[^\n]*-Recurse[^\n]*(C:\\\s|C:\\\*|~|\$env:USERPROFILE|\$HOME)|\bdel\s+\/[sfq]\s+(\/[sfq]\s+)*C:\\|\bformat\s+c:|\bmkfs(\.\w+)?\s+\/dev\/|\bdd\s+if=\/dev\/(zero|urandom|random)\s+of=\/dev\/(sd|nvme|hd|xvd|vd|disk)|\bfind\s+(\/|~|\$HOME)\s+[^\n]*-delete|:\(\)\s*\{\s*:\|:&\s*\};:/i;
const CLOUD_DESTROY = /\baws\s+s3\s+(rm\s+s3:\/\/\S+\s+[^\n]*--recursive|rb\s+[^\n]*--force)|\baws\b[^\n]{0,60}?\b(ec2\s+terminate-instances|s3\s+rm\b|s3\s+rb\b|iam\s+delete-(user|role|policy)|rds\s+delete-db|dynamodb\s+delete-table|cloudformation\s+delete-stack|lambda\s+delete-function)|\bgcloud\s+[^\n]*\bdelete\b[^\n]*(--quiet|-q)\b|\baz\s+group\s+delete\b|\bkubectl\s+delete\s+(ns|namespace|namespaces|all|--all|pv|nodes?)\b|\bterraform\s+destroy\b|\bgh\s+repo\s+delete\b|\bdoctl\s+[^\n]*delete\b[^\n]*--force/i;
const SQL_DROP_DB = /\bDROP\s+(DATABASE|SCHEMA)\b/i;
const SQL_DROP = /\bDROP\s+TABLE\b|\bTRUNCATE\s+(TABLE\s+)?\w+|\bDELETE\s+FROM\s+[\w."`]+\s*;/i;
const FORCE_PUSH = /\bgit\s+push\b[^\n]*(\s--force(?!-with-lease)\b|\s-f\b|\s--mirror\b|\s["']?\+[\w/.-]*:?[\w/.-]+)/;
const HISTORY_REWRITE = /\bgit\s+(filter-branch|filter-repo)\b|\bgit\s+update-ref\s+-d\b|\bgit\s+reflog\s+expire\b[^\n]*--expire=now/;
const CHMOD_WORLD = /\bchmod\s+(-[a-zA-Z]+\s+)*(0?777|0?666|a\+rwx|ugo\+rwx|o\+w|a\+w)\b|\b(os\.chmod|fs\.chmod(Sync)?|chmodSync|os\.Chmod)\s*\([^\n]*\b0o?777\b/;
const CHMOD_SETUID = /\bchmod\s+(-[a-zA-Z]+\s+)*([ugoa]*\+[rwxX]*s[rwxX]*|0?[2467][0-7]{3})\b|\bsetcap\s+|\bNOPASSWD\s*:|\bchown\s+root[^\n]*&&[^\n]*chmod\s+[ugoa]*\+s|S_ISUID|0o?4755\b/;

/*
 * Per-category keyword prefilters on the lower-cased line, found in one pass by a LiteralScanner.
 * Each category's keywords are necessary conditions of its detailed patterns, so most lines cost
 * one scan and nothing else.
 */
const INJ = 1;
const SEC = 2;
const GEN = 4;
const EXF = 8;
const DES = 16;
const PER = 32;
const CRED = 64;
const SEND = 128;
const URL = 256;
const AT = 512;
const KEYWORDS: Record<number, string[]> = {
  [INJ]: ['ignore', 'disregard', 'forget', 'override', 'bypass', 'you are', 'as the', 'as an', 'as a ', 'agent', 'assistant', 'note to', 'note for', 'attention', 'important', 'instruction', 'message to', 'message for', 'reminder', 'im_start', 'im_end', '<|system', 'inst]', '<<sys', '<</sys', '<system', '</system', '<instruction', 'system prompt', 'do not', "don't", 'never', 'without', 'near-factory', 'near factory', 'if you are', 'hey ', 'dear ', 'psst', 'when ', 'from now on', 'new instructions'],
  [SEC]: ['akia', 'asia', 'abia', 'acca', 'ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat', 'xox', 'hooks.slack', 'private key', 'sk-', 'sk_live', 'rk_live', 'npm_', ':_auth', ':_pass', 'aiza', 'glpat', 'hf_', 'pypi-', 'discord', 'aws_secret', 'awssecret', 'aws_access', 'sg.', 'accountkey=', 'dop_v1_', 'shpat_', 'shpss_', 'hvs.', 'xkeysib-', 'key-', ':aa', 'sq0atp-', 'sq0csp-'],
  [GEN]: ['secret', 'token', 'pass', 'credential', 'api_key', 'api-key', 'apikey', 'access_key', 'access-key', 'accesskey', 'private_key', 'private-key', 'privatekey', 'auth'],
  [EXF]: ['curl', 'wget', 'iwr', 'invoke-', 'iex', 'base64', 'atob', 'b64', 'buffer.from', 'unescape', 'decodeuri', 'fromcharcode', 'zlib', 'codecs', 'fromhex', 'marshal', 'powershell', 'pwsh', 'compile', 'require(', 'module.constructor', '/dev/tcp', 'nc ', 'ncat', 'netcat', 'socat', 'socket', 'pty.', 'mkfifo', 'fetch', 'axios', 'requests.', 'urllib', 'urlopen', 'xmlhttprequest', 'sendbeacon', '.request', '.post', 'nslookup', 'dig ', 'host ', 'ping ', 'drill ', 'resolve-dnsname', 'dns.', 'gethostbyname', 'dangerously', 'yolo', 'trust-all', 'allow-all', 'full-auto', 'approval-mode', 'bypasspermissions', 'webhook', 'requestbin', 'pipedream', 'burpcollaborator', 'oast.', 'interact.sh', 'ngrok', 'transfer.sh', 'pastebin', 'hastebin', '0x0.st', 'termbin', 'telegram', 'trycloudflare', 'requestcatcher', 'canarytokens', 'dnslog', 'ceye', 'env |', 'env|', 'printenv', 'eval', 'exec', 'function(', 'function (', '://1', '://2', '://3', '://4', '://5', '://6', '://7', '://8', '://9'],
  [DES]: ['rm ', 'rm\t', 'rmtree', 'rmsync', 'rmdir', 'rimraf', 'remove', 'rm_rf', 'removeall', 'del /', 'format c', 'mkfs', 'dd if', 'find ', ':()', 'aws ', 'gcloud', 'az group', 'kubectl', 'terraform', 'gh repo', 'doctl', 'drop ', 'truncate', 'delete from', 'git '],
  [PER]: ['chmod', 'setcap', 'nopasswd', 'chown', 's_isuid', '4755'],
  [CRED]: ['.ssh/', '.aws/', '.npmrc', '.git-credentials', '.docker/', '.kube/', 'gh/hosts', 'wallet.dat', 'login data', 'local state', 'keychain', '.netrc', '.pypirc', ".env'", '.env"', 'process.env)', 'process.env )', 'environ', 'printenv', 'gh auth token', 'metadata.google', '169.254.169.254', '/etc/passwd', '/etc/shadow', 'metamask', 'exodus', 'extension settings', 'leveldb', 'keystore', 'solana', 'id.json', 'electrum'],
  [URL]: ['://'],
  [AT]: ['@'],
  [SEND]: ['fetch', 'axios', '.request', 'https.get', 'http.get', 'request.post', 'requests.', 'urlopen', 'xmlhttprequest', 'websocket', 'dns.resolve', 'net.connect', 'socket.connect', 'curl ', 'wget ', 'user/repos', 'gh repo create', 'octokit', 'sendbeacon', 'smtplib'],
};
const SCANNER = new LiteralScanner(Object.entries(KEYWORDS).flatMap(([m, toks]) => toks.map((t) => [t, Number(m)] as [string, number])));
const LONG_LITERAL = /["'`][^"'`\s]{16,}["'`]/;

export function contentRules(v: FileView, report: Report): void {
  if (v.isVendored || v.diff.status === 'deleted' || v.diff.binary) return;
  const minified = /\.min\.(js|css)$|(^|\/)(dist|build|out)\//.test(v.lower);
  const harvest = !v.isDoc && !v.isTest;
  let reads: HunkLine | undefined;
  let sends: HunkLine | undefined;
  let downloads = false;
  const cfgFile = (/^\.env(\.[\w-]+)?$|^[\w-]+\.env$/.test(v.base) || /\.(ya?ml|ini|cfg|conf|properties|toml)$/.test(v.base)) && !/example|sample|template|dist|defaults?|test|ci$|\.lock$|lock\.ya?ml$/.test(v.base) && !v.isTest && !v.isDoc;
  const cfgCandidates: HunkLine[] = [];
  for (let i = 0; i < v.added.length; i++) {
    const l = v.added[i]!;
    const t = l.text;
    if (t.length < 4) continue;
    if (t.length > 1000) obfuscation(v, l, report);
    const m = SCANNER.scan(t);
    if (m === 0 && !v.isAgentInstructions) continue;
    if ((m & HIDDEN_BIT) !== 0 && HIDDEN.test(t)) hiddenUnicode(v, l, report);
    const urlCred = (m & URL) !== 0 && (m & AT) !== 0;
    if (cfgFile && (m & (GEN | SEC)) !== 0) cfgCandidates.push(l);
    const inj = (m & INJ) !== 0 || v.isAgentInstructions;
    const sec = (m & SEC) !== 0 || urlCred || ((m & GEN) !== 0 && LONG_LITERAL.test(t));
    const exf = (m & EXF) !== 0;
    const des = (m & DES) !== 0;
    const per = (m & PER) !== 0;
    if (harvest) {
      if (!reads && (m & CRED) !== 0 && CRED_READ.test(t)) reads = l;
      if (!sends && (m & SEND) !== 0 && CRED_SEND.test(t)) sends = l;
    }
    if (!(inj || sec || exf || des || per)) continue;
    if (exf && /curl|wget/i.test(t)) downloads = true;
    const ctx = lineContext(v, i);
    if (inj) injection(v, l, ctx, report);
    if (sec) secrets(v, l, ctx, report);
    if (exf) exfiltration(v, l, ctx, report, minified);
    if (des) destructive(v, l, ctx, report);
    if (per) permissions(v, l, ctx, report);
  }
  if (cfgCandidates.length) envFileSecrets(cfgCandidates, v, report);
  if (v.isTest && !v.isDoc) {
    const skips = v.added.filter((x) => /\b(it|test|describe)\.skip\(|\bx(it|describe|test)\(|@pytest\.mark\.skip|@unittest\.skip|@Disabled\b|@Ignore\b|\bt\.Skip\(|\.todo\(/.test(x.text));
    if (skips.length >= 3) report(mk(v, 'tests-disabled', 'destructive', 'medium', skips[0]!, '', `${skips.length} tests are switched off (skip/xit/@Disabled) in this change`, 'fix or delete tests openly; do not silence them'));
  }
  if (reads && sends) {
    report(mk(v, 'credential-harvest', 'exfiltration', 'critical', reads, '', `the same change reads credential stores or the whole environment (line ${reads.line}) and sends data over the network (line ${sends.line}): the shape of credential-stealing malware (nx 2025, ua-parser-js 2021)`, 'remove the credential access; code should never read other tools\' credential files'));
  }
  if (downloads) downloadThenRun(v, report);
}

/** Unquoted `KEY=value` secrets in committed .env files (the generic rule needs quotes). */
function envFileSecrets(lines: HunkLine[], v: FileView, report: Report): void {
  for (const l of lines) {
    const m = /^\s*(?:export\s+|-\s+)?([A-Za-z0-9_.-]*(?:SECRET|TOKEN|PASSWORD|PASSWD|PASS|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIALS?|AUTH)[A-Za-z0-9_.-]*)\s*[=:]\s*["']?([^\s"'#]{12,})["']?\s*$/i.exec(l.text);
    if (!m) continue;
    const value = m[2]!;
    if (isReferenceValue(value) || isPlaceholderSecret(value) || entropy(value) < 3.2 || !/\d/.test(value) || /^\$\{\{|^\{\{|^<|^%\(|^!|secrets\.|:\/\/|^\.{0,2}\/|^[\w-]+(\.[\w-]+){2,}$/.test(value)) continue;
    report(mk(v, 'config-secret', 'secrets', 'high', l, '', `${m[1]} is committed with a real-looking value in ${v.base}`, 'remove the value from git (keep an example file with placeholders), rotate the credential, load it from the environment or a secret store'));
    return;
  }
}

/** `curl URL -o X` on one line and `chmod +x X` / `./X` on a later one. */
function downloadThenRun(v: FileView, report: Report): void {
  if (v.isDoc || v.added.length === 0) return;
  for (let i = 0; i < v.added.length; i++) {
    const m = /\b(?:curl|wget)\b[^\n]*?(?:-o|-O|--output(?:-document)?)\s*["']?([\w./-]+)/.exec(v.added[i]!.text);
    if (!m) continue;
    const name = m[1]!.replace(/^\.\//, '');
    const base = name.split('/').pop()!;
    const esc = base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const run = new RegExp(`(chmod\\s+\\+?[0-7x]+\\s+["']?(\\./)?[\\w./-]*${esc}\\b|(^|[\\s;&|])\\./[\\w./-]*${esc}\\b|\\b(ba)?sh\\s+["']?[\\w./-]*${esc}\\b|\\bexec\\s+["']?(\\./)?[\\w./-]*${esc}\\b)`);
    const runAt = v.added.slice(i + 1).find((l) => run.test(l.text));
    if (!runAt) continue;
    const insecure = RAW_IP_URL.test(v.added[i]!.text) || /\bhttp:\/\//.test(v.added[i]!.text) || /\s-k\b|--insecure|--no-check-certificate/.test(v.added[i]!.text);
    const sev = commandSeverity(v, insecure ? 'critical' : KNOWN_INSTALLERS.test(v.added[i]!.text) ? 'medium' : 'high', 'code', false);
    if (sev) report(mk(v, 'download-run', 'exfiltration', sev, v.added[i]!, '', `downloads ${base}${insecure ? ' from a raw IP / over plain HTTP' : ''} and runs it (line ${runAt.line}): unreviewed code executes with the caller's privileges (ua-parser-js 2021)`, 'do not download executables at install/build time; if needed, pin a version and verify a checksum'));
    return;
  }
}

/** Severity for a command-like match, given where it sits. Returns null when it is no alarm at all. */
function commandSeverity(v: FileView, base: Severity, ctx: LineContext, lowerInTests = true): Severity | null {
  if (v.isAgentInstructions) return ctx === 'fence' ? base : raise(base, 0); // agents execute prose
  switch (ctx) {
    case 'security-fence':
    case 'security-prose':
      return null;
    case 'fence':
      return lower(base, 2);
    case 'prose':
      return lower(base, 2);
    case 'comment':
      return 'low';
    default:
      return v.isTest && lowerInTests ? lower(base, 1) : base;
  }
}

function injection(v: FileView, l: HunkLine, ctx: LineContext, report: Report): void {
  const lc = l.text.toLowerCase();
  let k = -1;
  for (let n = 0; n < INJECTION.length; n++) {
    if (!INJECTION_GATE[n]!.some((g) => lc.includes(g)) || !INJECTION[n]!.test(l.text)) continue;
    if (!WEAK_INJECTION.has(n)) {
      k = n;
      break;
    }
    if (k < 0) k = n;
  }
  const re = k >= 0 ? INJECTION[k] : v.isAgentInstructions ? AGENT_ONLY_INJECTION.find((r) => r.test(l.text)) : undefined;
  if (!re) return;
  // weak phrasings ("you are an AI…", "AI agents should run…", "note to the assistant") are normal
  // in agent instruction files; they become alarms only together with a harmful request
  const weak = WEAK_INJECTION.has(k) || k < 0;
  const harmful = HARMFUL_INTENT.test(l.text);
  if (weak && !harmful) {
    if (v.isAgentInstructions || ctx === 'security-fence' || ctx === 'security-prose' || v.isTest) return;
    report(mk(v, 'agent-instruction', 'prompt-injection', ctx === 'fence' ? 'low' : 'medium', l, '', `text addressed to an AI agent ("${re.exec(l.text)![0].slice(0, 50)}"): agents that read this file may treat it as instructions`, 'keep instructions for agents in the agent configuration files, where reviewers expect them'));
    return;
  }
  let sev: Severity | null;
  if (v.isAgentInstructions) sev = 'critical';
  else if (ctx === 'security-fence' || ctx === 'security-prose') sev = null;
  else if (v.isTest) sev = 'low';
  else if (ctx === 'fence') sev = 'medium';
  else sev = 'high';
  if (sev && ctx !== 'code' && ctx !== 'comment' && !v.isAgentInstructions && quoted(l.text, re)) sev = lower(sev, 2);
  if (!sev) return;
  if (sev === 'high' && harmful) sev = 'critical';
  report(mk(v, 'agent-instruction', 'prompt-injection', sev, l, '', `text addressed to an AI agent ("${re.exec(l.text)![0].slice(0, 50)}") — agents that read this ${v.isAgentInstructions ? 'rules file obey it' : 'file while working on the repository may follow it'}; this is how the 2025 Amazon Q extension "wiper" prompt and rules-file backdoors worked`, 'remove the instruction; if it documents an attack, put it in a fenced block in a security document'));
}

function quoted(text: string, re: RegExp): boolean {
  const m = re.exec(text);
  if (!m) return false;
  const before = text.slice(0, m.index);
  const count = (s: string, c: string) => s.split(c).length - 1;
  return count(before, '"') % 2 === 1 || count(before, '`') % 2 === 1 || count(before, '“') > count(before, '”') || /^\s*>/.test(text);
}

function hiddenUnicode(v: FileView, l: HunkLine, report: Report): void {
  const chars: string[] = [];
  let tagText = '';
  const t = l.text;
  for (const m of t.matchAll(HIDDEN_ALL)) {
    const c = m[0];
    const idx = m.index!;
    const cp = c.codePointAt(0)!;
    if (cp === 0xfeff && idx === 0 && l.line === 1) continue; // byte-order mark
    if (cp === 0x200d || cp === 0x200c) {
      const prev = t.codePointAt(Math.max(0, idx - 2)) ?? 0;
      const prev1 = t.charCodeAt(idx - 1);
      const next = t.codePointAt(idx + 1) ?? 0;
      const emoji = (x: number) => x >= 0x1f000 || (x >= 0x2600 && x <= 0x27bf) || x === 0xfe0f;
      const complexScript = (x: number) => (x >= 0x0600 && x <= 0x06ff) || (x >= 0x0900 && x <= 0x0dff) || (x >= 0x0e00 && x <= 0x0fff) || (x >= 0x1780 && x <= 0x17ff);
      if (emoji(prev) || emoji(next) || emoji(prev1) || complexScript(prev1) || complexScript(next)) continue;
    }
    if (cp >= 0xe0000) {
      const before = t.slice(0, idx);
      if (/\u{1F3F4}[\u{E0000}-\u{E007F}]*$/u.test(before)) continue; // subdivision flag emoji
      tagText += String.fromCharCode(cp - 0xe0000);
      chars.push('tag');
      continue;
    }
    chars.push(`U+${cp.toString(16).toUpperCase().padStart(4, '0')}`);
  }
  if (!chars.length) return;
  const kinds = new Set(chars);
  const hasTags = kinds.has('tag');
  const bidi = [...kinds].some((k) => /^U\+(202[A-E]|206[6-9])$/.test(k));
  let sev: Severity = hasTags || v.isAgentInstructions ? 'critical' : 'high';
  if (v.isLocale && !hasTags) sev = 'low';
  const visible = t.replace(HIDDEN_ALL, (c) => `<${c.codePointAt(0)! >= 0xe0000 ? 'TAG' : `U+${c.codePointAt(0)!.toString(16).toUpperCase()}`}>`);
  const evidence = hasTags ? `hidden tag text: "${tagText.slice(0, 100)}"` : visible;
  report(
    mk(
      v,
      'hidden-unicode',
      'prompt-injection',
      sev,
      l,
      evidence,
      `${hasTags ? 'Unicode tag characters carry text that is invisible to reviewers but read by AI models' : bidi ? 'bidirectional control characters make code display differently from how it is parsed (Trojan Source)' : 'zero-width characters hide content from reviewers'} (${[...kinds].join(', ')})${v.isAgentInstructions ? ' — in a file AI agents obey (the rules-file backdoor)' : ''}`,
      'remove the invisible characters (e.g. with a hex editor or `sed`); enforce a pre-merge check for them',
    ),
  );
}

function secrets(v: FileView, l: HunkLine, ctx: LineContext, report: Report): void {
  const t = l.text;
  let found = false;
  for (const p of SECRET_PATTERNS) {
    p.re.lastIndex = 0;
    const m = p.re.exec(t);
    if (!m) continue;
    const value = p.group ? m[p.group] ?? m[0] : m[0];
    if (p.id !== 'private-key' && isPlaceholderSecret(value)) continue;
    if (p.id === 'url-credentials' && (isReferenceValue(value) || /^(password|pass|secret|user|username|token)$/i.test(value))) continue;
    if (p.id === 'private-key' && /\.pub$|example|sample/i.test(v.lower)) continue;
    let sev: Severity = p.id === 'url-credentials' ? 'medium' : 'high';
    if (ctx === 'security-fence' || ctx === 'security-prose') continue;
    if (v.isTest || ctx === 'fence' || ctx === 'prose') sev = lower(sev, 1);
    report(mk(v, p.id, 'secrets', sev, l, '', `a ${p.name} is committed in clear text; anyone with read access (and every fork and clone) has it`, 'revoke and rotate the credential now, remove it from history, and load it from a secret store or environment at runtime'));
    found = true;
    break;
  }
  if (found || v.isDoc) return;
  GENERIC_ASSIGNMENT.lastIndex = 0;
  for (const m of t.matchAll(GENERIC_ASSIGNMENT)) {
    const value = m[2]!;
    if (isReferenceValue(value) || isPlaceholderSecret(value)) continue;
    if (entropy(value) < 3.5 || !/[0-9]/.test(value) || !/[A-Za-z]/.test(value)) continue;
    if (/^(sha\d*|md5|integrity|hash|checksum)/i.test(m[1]!) || /^sha\d+-/.test(value)) continue;
    report(mk(v, 'generic-secret', 'secrets', v.isTest ? 'low' : 'medium', l, '', `"${m[1]}" is assigned a high-entropy literal that looks like a credential`, 'load credentials from the environment or a secret store; rotate the value if it is real'));
    return;
  }
}

function exfiltration(v: FileView, l: HunkLine, ctx: LineContext, report: Report, minified: boolean): void {
  const t = l.text;
  const at = (id: string, base: Severity, why: string, fix: string) => {
    const sev = commandSeverity(v, base, ctx, false);
    if (sev) report(mk(v, id, 'exfiltration', sev, l, '', why, fix));
  };
  if (REVERSE_SHELL.test(t)) return at('reverse-shell', 'critical', 'opens a reverse shell: an interactive shell for a remote attacker', 'remove it');
  if (SEND_SECRETS.test(t) || PIPE_SEND.test(t)) return at('send-secrets', 'critical', 'sends environment variables, tokens or credential files to a network endpoint (the Codecov bash-uploader pattern)', 'never send env or credential files anywhere; remove this');
  if (DL_EXEC.test(t) || SUBST_EXEC.test(t) || PS_DL.test(t)) {
    const known = KNOWN_INSTALLERS.test(t);
    const ip = RAW_IP_URL.test(t);
    return at('download-exec', known && !ip ? 'medium' : 'critical', `downloads code and executes it in one step${known ? ' (a well-known installer, but still unpinned and unverified)' : ' from a host nobody reviewed'}: whatever the server returns at that moment runs with the caller's privileges`, 'download a pinned version, verify its checksum or signature, then run it');
  }
  const dec = DECODE_EXEC.find((r) => r.test(t));
  if (dec) {
    if (dec.source.startsWith('module') && !/\b(eval|decipher|Buffer|require\()/i.test(v.after.map((x) => x.text).join('\n').slice(0, 200000))) return;
    return at('decode-exec', 'critical', 'decodes an encoded blob and executes it: the payload is hidden from review', 'ship readable source; never execute decoded data');
  }
  if (DL_RUN.test(t)) return at('download-run', KNOWN_INSTALLERS.test(t) ? 'medium' : 'high', 'downloads a file and runs it', 'pin and verify the download (checksum/signature) before running it');
  if (AI_CLI_ABUSE.test(t) && !v.isAgentInstructions && !/(^|\/)\.(claude|cursor|gemini|vscode)\//.test(v.lower)) {
    if (/\b(claude|gemini|q|codex|copilot|cursor-agent|aider|opencode|amp)\b/i.test(t) || ctx === 'code') {
      return at('ai-cli-unrestricted', 'critical', 'runs an AI coding CLI with its permission checks disabled (--dangerously-skip-permissions / --yolo / --trust-all-tools): any prompt becomes unrestricted command execution — the 2025 nx "s1ngularity" malware used exactly this to hunt for secrets', 'never run agents with approvals disabled outside a sandbox');
    }
  }
  if (EXFIL_HOSTS.test(t)) return at('exfil-endpoint', 'high', `talks to ${EXFIL_HOSTS.exec(t)![0]}, a service commonly used to receive exfiltrated data or run callbacks`, 'remove the endpoint; use your own reviewed infrastructure');
  if (DNS_EXFIL.test(t)) return at('dns-exfil', 'high', 'builds a DNS name from data and resolves it: DNS exfiltration passes most egress filters', 'remove it');
  if (RAW_IP_URL.test(t) && !minified && /curl|wget|fetch|request|http|socket|connect|urlopen|axios|nc\b/i.test(t)) return at('raw-ip', 'medium', 'contacts a hard-coded public IP address', 'use a named, documented endpoint');
}

function obfuscation(v: FileView, l: HunkLine, report: Report): void {
  const t = l.text;
  const hex = (t.match(/\\x[0-9a-f]{2}/gi) ?? []).length;
  const obfNames = (t.match(/_0x[0-9a-f]{4,6}/g) ?? []).length;
  const charCodes = /String\.fromCharCode\((\s*\d+\s*,){10,}/.test(t);
  const evalish = /\beval\s*\(|new Function\s*\(|Function\s*\(\s*['"]return|setTimeout\s*\(\s*['"]|module\._compile|createDecipher|exec\s*\(/.test(t);
  if ((hex > 50 || obfNames > 20 || charCodes) && (evalish || obfNames > 20)) {
    report(mk(v, 'obfuscated-code', 'exfiltration', 'critical', l, '', `a ${t.length}-character line of obfuscated code (${hex} hex escapes, ${obfNames} _0x names) that evaluates itself: the event-stream / flatmap-stream payload shape`, 'reject obfuscated source; ask for the readable original'));
  } else if (t.length > 20000 && /\b(eval|Function)\s*\(/.test(t) && entropy(t.slice(0, 4000)) > 5) {
    report(mk(v, 'packed-code', 'exfiltration', 'high', l, '', 'a very long, dense line that evaluates code', 'commit readable source, build artifacts in CI'));
  }
}

function destructive(v: FileView, l: HunkLine, ctx: LineContext, report: Report): void {
  const t = l.text;
  const at = (id: string, base: Severity, why: string, fix: string) => {
    const sev = commandSeverity(v, base, ctx);
    if (sev) report(mk(v, id, 'destructive', sev, l, '', why, fix));
  };
  if (RM_CRIT.test(t) || DESTROY_OTHER.test(t)) return at('broad-delete', 'critical', 'recursively deletes a root, home or system directory', 'delete only paths the script created, with `--` and a non-empty check on variables (`${VAR:?}`)');
  if (CLOUD_DESTROY.test(t)) return at('cloud-destroy', 'high', 'destroys cloud resources, clusters or repositories non-interactively', 'gate destructive infrastructure commands behind a manual, reviewed step');
  if (RM_HIGH.test(t) && !/\$\{\w+:\?/.test(t)) {
    const target = RM_HIGH.exec(t)![4] ?? '';
    if (!/^"?\$\{?(\w+)\}?/.test(target) || !/\/\*?"?$/.test(target)) {
      if (/^["']?(\*|\.\/?\*|\.\.\/?\*?)["']?$/.test(target)) return at('wildcard-delete', 'high', 'recursively deletes everything in the current or parent directory', 'name the paths to delete explicitly');
      return;
    }
    return at('var-delete', 'medium', 'recursively deletes "$VAR/": if the variable is empty this becomes `rm -rf /`', 'use "${VAR:?}/…" so an empty variable aborts');
  }
  const migration = /(^|\/)(migrations?|migrate|db\/migrate|alembic|flyway|liquibase|schema)\//.test(v.lower) || /\b(down|rollback|revert)\b/i.test(v.lower);
  if (SQL_DROP_DB.test(t)) return at('drop-database', migration || v.isTest ? 'medium' : 'high', 'drops a whole database or schema', 'make destructive migrations reversible and reviewed; back up first');
  if (SQL_DROP.test(t) && /\.(sql|py|rb|js|ts|go|java|php|cs|ya?ml|sh)$/.test(v.lower)) {
    if (/IF\s+EXISTS/i.test(t) && (migration || v.isTest)) return;
    return at('drop-table', migration || v.isTest ? 'low' : 'medium', 'drops or empties a table', 'make sure the data is backed up or migrated');
  }
  if (FORCE_PUSH.test(t)) {
    const main = /\b(main|master|trunk|release|production|prod)\b/.test(t) || v.isWorkflow;
    return at('force-push', main ? 'high' : 'medium', `force-pushes${main ? ' to a protected-looking branch' : ''}: rewrites remote history and can erase others' commits`, 'use --force-with-lease on your own branches only; never force-push shared branches');
  }
  if (HISTORY_REWRITE.test(t)) return at('history-rewrite', 'medium', 'rewrites or prunes git history', 'only with the team\'s agreement and a backup');
}

function permissions(v: FileView, l: HunkLine, ctx: LineContext, report: Report): void {
  const t = l.text;
  const at = (id: string, base: Severity, why: string, fix: string) => {
    const sev = commandSeverity(v, base, ctx);
    if (sev) report(mk(v, id, 'permission-change', sev, l, '', why, fix));
  };
  if (CHMOD_SETUID.test(t)) return at('setuid', 'critical', 'sets the setuid/setgid bit, file capabilities or passwordless sudo: a path to root for whoever can run or replace the file', 'do not grant privileges from scripts; use explicit, reviewed system configuration');
  if (CHMOD_WORLD.test(t)) return at('world-writable', 'high', 'makes files world-writable (777/666): any local user or process can replace them', 'use the narrowest mode (e.g. 755 for executables, 644 for files)');
}

/** A file that both reads credential stores and sends data out is a harvester, even across lines. */
const CRED_READ = /(\/etc\/(passwd|shadow)\b|metamask|exodus|Local Extension Settings|leveldb|\.electrum|solana\/id\.json|keystore\/UTC|\.ssh\/(id_|known_hosts|config)|\.aws\/credentials|\.npmrc|\.git-credentials|\.docker\/config\.json|\.kube\/config|\.config\/gh\/hosts|wallet\.dat|Login Data|Local State|keychain|\.netrc|\.pypirc|\.env['"]|JSON\.stringify\(\s*process\.env\s*\)|Object\.(keys|entries)\(\s*process\.env\s*\)|dict\(\s*os\.environ\s*\)|os\.environ\.copy\(\)|os\.environ\.items\(\)|\bprintenv\b|\bgh auth token\b|metadata\.google\.internal|169\.254\.169\.254)/;
const CRED_SEND = /\b(fetch|axios\.(post|put|get)|https?\.(request|get)|request\.post|requests\.(post|put)|urllib\.request\.urlopen|urlopen|XMLHttpRequest|WebSocket|dns\.resolve|net\.connect|socket\.connect|curl\s|wget\s|api\.github\.com\/user\/repos|gh repo create|octokit|sendBeacon|smtplib)\b|\.request\s*\(/;
