/**
 * Rules about whole files rather than lines: binary blobs (executables, archives, binaries under
 * a text name — the xz 2024 backdoor hid in "test" archives), mode changes (new executables,
 * symlinks pointing outside the repository), and the build system (Dockerfiles, autotools m4 and
 * configure scripts, CMake execute_process, Gradle/Maven wrappers and exec steps).
 * Also the diff-wide rule: many tests deleted.
 */
import { isTestPath, type FileView } from '../context.js';
import type { Finding, FileDiff } from '../types.js';
import { mk, type Report } from './common.js';

const EXEC_EXT = /\.(exe|dll|so|dylib|bin|elf|com|scr|msi|jar|war|class|pyc|pyo|whl|egg|o|a|lib|node|wasm|apk|ipa|dmg|pkg|deb|rpm|appimage|out)$/;
const WASM = /\.wasm$/;
const ARCHIVE_EXT = /\.(zip|tar|tgz|gz|bz2|xz|lzma|7z|rar|zst|lz|lz4|cab|iso|img|cpio)$/;
const MEDIA_EXT = /\.(png|jpe?g|gif|webp|ico|icns|bmp|tiff?|avif|heic|svg|mp3|mp4|wav|ogg|webm|mov|avi|flac|woff2?|ttf|otf|eot|pdf|psd|sketch|fig|ai|eps|xcf|blend|glb|gltf|fbx|obj|stl|ttc|pptx?|docx?|xlsx?|odt|ods|keynote|numbers|pages|db|sqlite|parquet|npy|npz|pt|pth|onnx|h5|pb|tflite|safetensors|pkl|pickle|mo|ser|snap|lock)$/;
const TEXT_EXT = /\.(txt|md|json|ya?ml|toml|ini|cfg|conf|js|mjs|cjs|ts|tsx|jsx|py|rb|go|rs|java|kt|c|h|cc|cpp|hpp|cs|php|sh|bash|zsh|ps1|bat|cmd|html?|css|scss|less|xml|csv|tsv|sql|m4|ac|am|in|mk|cmake|gradle|properties|env|lock)$/;

export function binaryRules(v: FileView, report: Report): void {
  const d = v.diff;
  if (!d.binary || d.status === 'deleted') return;
  const head = d.binaryInfo?.head;
  const magic = head ? magicOf(head) : null;
  const size = d.binaryInfo?.size;
  const sizeText = size !== undefined ? ` (${size} bytes)` : '';
  if (WASM.test(v.lower) && magic !== 'executable') {
    report(mk(v, 'wasm', 'binary-blob', 'medium', null, `${d.status} WebAssembly module ${v.path}${sizeText}`, 'a compiled WebAssembly module cannot be reviewed as source', 'build it in CI from reviewed source'));
    return;
  }
  if (magic === 'executable' || EXEC_EXT.test(v.lower)) {
    const sev = v.isTest && !magic ? 'high' : 'critical';
    report(mk(v, 'executable', 'binary-blob', magic === 'executable' || !v.isTest ? sev : 'high', null, `${d.status} binary ${v.path}${sizeText}${magic ? ' — ELF/PE/Mach-O header' : ''}`, 'a compiled executable or library enters the source tree: it cannot be reviewed, and anything can be inside', 'build binaries from source in CI; never commit them'));
    return;
  }
  if (ARCHIVE_EXT.test(v.lower) || magic === 'archive') {
    report(mk(v, 'archive', 'binary-blob', v.isTest ? 'medium' : 'high', null, `${d.status} archive ${v.path}${sizeText}`, 'an opaque archive enters the repository; the xz-utils backdoor (2024) was delivered as "test" archives unpacked by the build', 'commit the archive\'s sources, or generate test archives from a script in the test'));
    return;
  }
  if (MEDIA_EXT.test(v.lower) || magic === 'media') return;
  if (TEXT_EXT.test(v.lower)) {
    report(mk(v, 'binary-as-text', 'binary-blob', 'high', null, `${v.path} is binary under a text file name${sizeText}`, 'binary content under a text extension is a way to smuggle payloads past reviewers', 'find out what the bytes are; commit real text'));
    return;
  }
  report(mk(v, 'binary', 'binary-blob', 'medium', null, `${d.status} binary ${v.path}${sizeText}`, 'an unreviewable binary file enters the repository', 'say what it is and how it was produced'));
}

function magicOf(b: Buffer): 'executable' | 'archive' | 'media' | null {
  const hex = b.subarray(0, 4).toString('hex');
  if (hex === '7f454c46' || b.subarray(0, 2).toString('latin1') === 'MZ' || /^(feedface|feedfacf|cefaedfe|cffaedfe|cafebabe)$/.test(hex) || b.subarray(0, 4).toString('latin1') === '\0asm') return 'executable';
  if (/^(504b0304|1f8b08|fd377a58|425a68|377abcaf|52617221|28b52ffd)/.test(b.subarray(0, 6).toString('hex'))) return 'archive';
  if (/^(89504e47|ffd8ff|47494638|25504446|52494646|00000100|774f4646|774f4632)/.test(hex)) return 'media';
  return null;
}

export function modeRules(v: FileView, report: Report): void {
  const d = v.diff;
  if (d.status === 'deleted') return;
  const newMode = d.newMode;
  const gainedExec = newMode === '100755' && (d.status === 'added' ? true : d.oldMode === '100644');
  if (gainedExec) {
    const scripty = /\.(sh|bash|zsh|py|pl|rb|js|mjs|ts)$/.test(v.lower) || /(^|\/)(bin|scripts?|tools|hack|\.husky|\.githooks|ci)\//.test(v.lower) || /^(configure|gradlew|mvnw|autogen\.sh|bootstrap)$/.test(v.base) || (v.added[0]?.text.startsWith('#!') ?? false);
    const bad = /\.(txt|md|json|ya?ml|png|jpe?g|gif|css|html?|csv|lock|toml|ini|cfg|svg|xml)$/.test(v.lower);
    if (bad || !scripty) {
      report(mk(v, 'new-executable', 'permission-change', bad ? 'high' : 'medium', null, `${d.oldMode ?? 'new'} → ${newMode}: ${v.path}`, `${v.path} becomes executable${bad ? ' although it is a data/document file' : ''}`, 'keep the executable bit to scripts that are meant to be run'));
    } else if (d.status !== 'added') {
      report(mk(v, 'new-executable', 'permission-change', 'low', null, `${d.oldMode} → ${newMode}: ${v.path}`, `${v.path} becomes executable`, 'fine for scripts; make sure it is meant to be run'));
    }
  }
  if (newMode === '120000') {
    const target = v.added[0]?.text ?? '';
    if (/^\/|^~|(^|\/)\.\.(\/|$)/.test(target)) {
      const depth = (target.match(/\.\.\//g) ?? []).length;
      const dirDepth = v.path.split('/').length - 1;
      const outside = target.startsWith('/') || target.startsWith('~') || depth > dirDepth;
      if (outside) {
        report(mk(v, 'symlink-outside', 'permission-change', /\.ssh|\.aws|\.gnupg|\/etc\/|\/proc\/|\/root|\.config|\.npmrc|\.git-credentials|\.env/.test(target) ? 'critical' : 'high', v.added[0] ?? null, `${v.path} -> ${target}`, 'a symlink points outside the repository: tools that read or write it (CI, agents, archivers) touch files on the host', 'commit real files; no symlinks out of the tree'));
      }
    }
  }
}

export function buildRules(v: FileView, report: Report): void {
  const p = v.lower;
  if (v.isVendored || v.diff.status === 'deleted' || v.isDoc) return;
  if (/(^|\/)(dockerfile|containerfile)([.-][\w.-]+)?$|\.dockerfile$/.test(p)) {
    for (const l of v.added) {
      const t = l.text;
      const from = /^\s*FROM\s+(--platform=\S+\s+)?(\S+)/i.exec(t);
      if (from) {
        const image = from[2]!;
        if (image.startsWith('$') || /^scratch$/i.test(image) || !v.diff.lines.some((x) => x.kind === '-' && /^\s*FROM\b/i.test(x.text)) && v.diff.status !== 'added') continue;
        const unknownRegistry = /^[\w.-]+\.[a-z]{2,}(:\d+)?\//.test(image) && !/^(docker\.io|ghcr\.io|gcr\.io|mcr\.microsoft\.com|public\.ecr\.aws|quay\.io|registry\.k8s\.io|cgr\.dev|registry\.access\.redhat\.com|[\w-]+\.dkr\.ecr\.[\w-]+\.amazonaws\.com|[\w.-]+\.pkg\.dev)\//.test(image);
        const pinned = /@sha256:[0-9a-f]{64}/.test(image);
        if (v.diff.status === 'added' && !unknownRegistry) continue;
        const thirdPartyHub = !unknownRegistry && /^[\w.-]+\/[\w.-]+(:|@|$)/.test(image) && !/^(docker|library|bitnami|nginxinc|hashicorp|grafana|prom|elastic|confluentinc|mcr|circleci|cimg|jenkins|gitlab|sonarsource|openjdk|eclipse-temurin|amazoncorretto|rust|golang|node|python|denoland|oven|mongo|redis|postgres|mysql|mariadb|rabbitmq|traefik|caddy|curlimages|alpine|ubuntu|debian|fedora|rockylinux|almalinux|busybox|gcr|google|azure|amazon|aws|cypress|mcr\.microsoft\.com|microsoft|apache|minio|influxdb|timescale|clickhouse|envoyproxy|istio|kong|vault|consul|pulumi|renovate|selenium|playwright|browserless)\//.test(image);
        report(mk(v, 'base-image', 'build-system', unknownRegistry ? 'high' : thirdPartyHub ? 'medium' : 'low', l, '', `the base image ${v.diff.status === 'added' ? 'is' : 'changes to'} ${image}${unknownRegistry ? ', from an uncommon registry' : ''}${pinned ? '' : ' (not pinned by digest)'}: everything built on it inherits its contents`, 'use a trusted registry and pin the image by digest (`@sha256:…`)'));
        continue;
      }
      if (/^\s*RUN\b/i.test(t) && /\b(curl|wget)\b[^\n]*\|\s*(sudo\s+)?(ba|z)?sh\b/.test(t)) {
        report(mk(v, 'docker-run-download', 'build-system', 'medium', l, '', 'the image build downloads a script and runs it: the image contains whatever that server returned at build time', 'download a pinned release and verify its checksum in the Dockerfile'));
        continue;
      }
      const add = /^\s*ADD\s+(--\S+\s+)*(https?:\/\/\S+)/i.exec(t);
      if (add) {
        const checked = /--checksum=/.test(t);
        report(mk(v, 'add-remote', 'build-system', checked ? 'low' : 'medium', l, '', `ADD fetches ${add[2]} at build time${checked ? '' : ' without a checksum'}: the image contains whatever that URL serves`, 'download with a pinned version and verify a checksum (`ADD --checksum=sha256:…`)'));
      }
    }
  }
  if (/(^|\/)(configure\.(ac|in)|aclocal\.m4|[\w-]+\.m4|makefile\.(am|in)|configure|ltmain\.sh|build-aux\/[\w.-]+)$/.test(p)) {
    const sus = v.added.find((l) => /\beval\b|\|\s*(\/bin\/)?(ba)?sh\b|\bxz\s+-d|\bhead\s+-c|\btail\s+-c|\btr\s+["']\\?\\?t|\bdd\s+|\bbase64\b|\bgl_[a-z_]*=.*\$\(|sed\s+["']?[^"']*\brpath\b|\$\(\s*cat\s+[^)]*tests?\/|\bod\s+-|\bawk\s+['"]BEGIN[^\n]*srand/.test(l.text));
    if (sus) {
      report(mk(v, 'autotools-payload', 'build-system', 'critical', sus, '', 'an autotools macro or generated build script decodes, unpacks or evaluates data at configure time — the exact shape of the xz-utils backdoor (build-to-host.m4 extracting a payload from test files)', 'reject generated/macro changes that eval or unpack data; regenerate configure from reviewed sources'));
    } else if (v.added.length) {
      report(mk(v, 'autotools-change', 'build-system', /\.m4$|^configure$|(^|\/)configure$/.test(p) ? 'medium' : 'low', v.added[0]!, '', 'an autotools input changed; these run as shell at build time and are rarely reviewed line by line', 'review the macro logic as code'));
    }
  }
  if (/(^|\/)cmakelists\.txt$|\.cmake$/.test(p)) {
    for (const l of v.added) {
      if (/\b(execute_process|file\s*\(\s*DOWNLOAD|ExternalProject_Add|FetchContent_Declare)\b/i.test(l.text)) {
        const risky = /curl|wget|bash|sh\s+-c|base64|https?:\/\/(?!github\.com)/i.test(l.text);
        report(mk(v, 'cmake-exec', 'build-system', risky ? 'high' : 'medium', l, '', 'CMake runs a process or downloads content at configure time', 'pin downloads with URL_HASH and avoid execute_process of fetched code'));
      }
    }
  }
  if (/(^|\/)gradle-wrapper\.properties$/.test(p)) {
    const l = v.added.find((x) => /distributionUrl\s*=/.test(x.text) && !/services\.gradle\.org/.test(x.text));
    if (l) report(mk(v, 'gradle-distribution', 'build-system', 'high', l, '', 'the Gradle wrapper downloads Gradle from a non-official host', 'use services.gradle.org with distributionSha256Sum'));
  }
  if (/(^|\/)(gradle-wrapper\.jar|maven-wrapper\.jar)$/.test(p)) {
    report(mk(v, 'wrapper-jar', 'build-system', 'high', null, `${v.diff.status} ${v.path}`, 'the build wrapper jar runs on every build; a modified one is a perfect backdoor', 'verify it against the official checksum (gradle/actions/wrapper-validation)'));
  }
  if (/\.gradle(\.kts)?$|(^|\/)pom\.xml$|(^|\/)build\.sbt$/.test(p)) {
    const l = v.added.find((x) => /\b(exec\s*\{|commandLine|Runtime\.getRuntime\(\)\.exec|ProcessBuilder|exec-maven-plugin|maven-antrun-plugin|<exec\b|"curl|'curl|sys\.process)/.test(x.text));
    if (l) report(mk(v, 'build-exec', 'build-system', /curl|wget|bash|sh -c/.test(l.text) ? 'high' : 'medium', l, '', 'the build runs an external process', 'keep builds declarative; review the command'));
  }
  if (/(^|\/)(binding\.gyp|meson\.build|build\.zig|sconstruct|bazel\/|build\.bazel|workspace(\.bazel)?|\.bazelrc)$/.test(p)) {
    const l = v.added.find((x) => /\b(action|run_command|custom_target|http_archive|genrule|system\()\b|curl|wget/.test(x.text));
    if (l) report(mk(v, 'build-script', 'build-system', /curl|wget|\|\s*sh/.test(l.text) ? 'high' : 'medium', l, '', 'a build definition runs commands or fetches archives', 'pin fetched archives with hashes; review commands'));
  }
  if (/(^|\/)(build|scripts?|tools|ci)\/[\w.-]+\.(sh|bash|ps1|py|js|mjs)$|(^|\/)(build|install|setup|bootstrap)\.(sh|ps1|bat|cmd)$/.test(p) && !v.isTest) {
    const l = v.added.find((x) => /\b(curl|wget|Invoke-WebRequest)\b/.test(x.text) && !/^\s*#/.test(x.text));
    if (l) report(mk(v, 'build-download', 'build-system', 'low', l, '', 'a build script downloads something', 'pin and verify downloads'));
  }
}

/** Diff-wide: deleting many tests (or test files) is a way to hide a behaviour change. Fed file by file. */
export class TestDeletionTracker {
  private deletedFiles = 0;
  private removedTestLines = 0;
  private addedTestLines = 0;
  private removedAssertions = 0;
  private renamedAway = 0;
  private first: string | undefined;
  private anyTest: string | undefined;

  add(f: FileDiff): void {
    const lower = (f.oldPath ?? f.path).toLowerCase();
    if (f.status === 'renamed' && isTestPath((f.oldPath ?? '').toLowerCase()) && !isTestPath(f.path.toLowerCase())) this.renamedAway++;
    if (!isTestPath(lower) || /\.(snap|json|txt|ya?ml|fixture|csv|xml|html)$/.test(lower)) return;
    this.anyTest ??= f.path;
    if (f.status === 'deleted') {
      this.deletedFiles++;
      this.first ??= f.path;
    }
    this.removedTestLines += f.removedCount;
    this.addedTestLines += f.addedCount;
    for (const l of f.lines) if (l.kind === '-' && /\b(assert|expect|should|t\.(equal|ok|deepEqual)|it\(|test\()/.test(l.text)) this.removedAssertions++;
  }

  report(report: Report): void {
    const { deletedFiles, removedTestLines, addedTestLines, removedAssertions } = this;
    const file = this.first ?? this.anyTest ?? 'tests';
    if (deletedFiles >= 3 || (deletedFiles >= 1 && removedTestLines >= 200 && addedTestLines < removedTestLines / 10) || this.renamedAway >= 2) {
      report(finding(file, 'tests-deleted', 'high', `${deletedFiles} test files deleted, ${removedTestLines} test lines removed, ${addedTestLines} added`, 'many tests are deleted: a behaviour change can hide behind a shrinking test suite (and agents are known to delete failing tests)'));
    } else if ((deletedFiles >= 1 && addedTestLines < removedTestLines / 2) || (removedAssertions >= 10 && addedTestLines < removedTestLines / 4)) {
      report(finding(file, 'tests-deleted', 'medium', `${deletedFiles} test files deleted, ${removedAssertions} assertions removed`, 'tests or assertions are removed'));
    }
  }
}

function finding(file: string, id: string, severity: 'medium' | 'high', evidence: string, why: string): Finding {
  return mk(file, id, 'destructive', severity, null, evidence, why, 'keep the tests, or explain in the PR why each one is obsolete');
}
