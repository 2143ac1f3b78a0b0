/**
 * dependency-change: new dependencies, dependencies fetched from URLs/git/tarballs instead of the
 * registry, registry or index changes (.npmrc, pip, yarn), lockfile entries resolved from hosts
 * that are not the standard registry (dependency confusion), and names one or two edits away
 * from a popular package (typosquats). A lockfile bump from the standard registry is not an alarm.
 */
import { enclosingKeys, type FileView } from '../context.js';
import { mk, type Report } from './common.js';
import { POPULAR_NPM, POPULAR_PYPI } from './popular.js';

const STD_REGISTRY_HOSTS = /^(registry\.npmjs\.org|registry\.yarnpkg\.com|registry\.npmjs\.com|npm\.pkg\.github\.com|pypi\.org|files\.pythonhosted\.org|pypi\.python\.org|crates\.io|static\.crates\.io|index\.crates\.io|github\.com\/rust-lang\/crates\.io-index|rubygems\.org|proxy\.golang\.org|repo\.maven\.apache\.org|repo1\.maven\.org|plugins\.gradle\.org|services\.gradle\.org|api\.nuget\.org|registry\.bower\.io|jsr\.io|npm\.jsr\.io|codeload\.github\.com)$/;
const DEP_BLOCKS = new Set(['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies', 'bundleDependencies', 'bundledDependencies', 'overrides', 'resolutions']);

export function depRules(v: FileView, report: Report, extraRegistries: (host: string) => boolean = () => false): void {
  const p = v.lower;
  if (v.isVendored || v.diff.status === 'deleted' || v.isDoc) return;
  const stdHost = (h: string) => STD_REGISTRY_HOSTS.test(h.toLowerCase()) || extraRegistries(h.toLowerCase());

  if (/(^|\/)package\.json$/.test(p)) {
    const removedNames = new Set(v.diff.lines.filter((l) => l.kind === '-').map((l) => /^\s*"([^"]+)"\s*:/.exec(l.text)?.[1]).filter(Boolean));
    for (let i = 0; i < v.added.length; i++) {
      const l = v.added[i]!;
      const m = /^\s*"((?:@[\w.-]+\/)?[\w.-]+)"\s*:\s*"([^"]*)"/.exec(l.text);
      if (!m) continue;
      const keys = enclosingKeys(v, v.afterIndex[i]!);
      const block = keys[1];
      if (block === undefined || !DEP_BLOCKS.has(block)) {
        if (block !== undefined || !/^[\^~<>=*\d]|^(latest|next|workspace:|npm:|file:|link:|git|https?:|github:)/.test(m[2]!)) continue;
      }
      const [, name, spec] = m as unknown as [string, string, string];
      checkSpec(v, report, l, name, spec, stdHost);
      if (!removedNames.has(name)) {
        const squat = typosquatOf(name, POPULAR_NPM);
        if (squat) report(mk(v, 'typosquat', 'dependency-change', 'high', l, '', `new dependency "${name}" is one typo away from the popular package "${squat}" — a common way to slip in malware`, `check the name; did you mean "${squat}"?`));
        else report(mk(v, 'new-dependency', 'dependency-change', 'low', l, '', `new dependency ${name}@${spec}: new code that runs in your build or product`, 'check the package\'s maintainers, age and install scripts'));
      }
    }
  }

  if (/(^|\/)(requirements[\w.-]*\.(txt|in)|constraints\.txt|pipfile)$/.test(p)) {
    const removed = new Set(v.diff.lines.filter((l) => l.kind === '-').map((l) => pyName(l.text)));
    for (const l of v.added) {
      const t = l.text.trim();
      if (!t || t.startsWith('#')) continue;
      const idx = /^(?:-i|--index-url|--extra-index-url|-f|--find-links|--trusted-host)\s*[= ]\s*(\S+)/.exec(t);
      if (idx) {
        const host = hostOf(idx[1]!);
        if (!host || !stdHost(host)) report(mk(v, 'index-url', 'dependency-change', /extra-index-url|trusted-host/.test(t) ? 'high' : 'high', l, '', `packages may now come from ${host ?? idx[1]} instead of PyPI; --extra-index-url lets a public package shadow a private name (dependency confusion) and a foreign index can serve anything`, 'use one trusted index with hashes (`--require-hashes`)'));
        continue;
      }
      if (/(git\+|https?:\/\/|file:|@ (https?|git|file):)/.test(t)) {
        const host = hostOf(/(https?:\/\/[^\s#@]+)/.exec(t)?.[1] ?? '');
        report(mk(v, 'url-dependency', 'dependency-change', host && /github\.com$/.test(host) ? 'medium' : 'high', l, '', 'a dependency is installed from a URL or git, bypassing the registry\'s immutability and review', 'depend on a released version from the registry, pinned with a hash'));
        continue;
      }
      const name = pyName(t);
      if (name && !removed.has(name)) {
        const squat = typosquatOf(name, POPULAR_PYPI);
        if (squat) report(mk(v, 'typosquat', 'dependency-change', 'high', l, '', `new dependency "${name}" is one typo away from the popular package "${squat}"`, `check the name; did you mean "${squat}"?`));
        else report(mk(v, 'new-dependency', 'dependency-change', 'low', l, '', `new dependency ${name}`, 'check the package before adding it'));
      }
    }
  }

  if (/(^|\/)pyproject\.toml$/.test(p)) {
    for (const l of v.added) {
      const u = /(git\+https?:\/\/|git\+ssh:\/\/|https?:\/\/\S+\.(whl|tar\.gz|zip))/.exec(l.text);
      if (u && !/^\s*(homepage|repository|documentation|changelog|issues|source|url|Homepage|Repository|Documentation)\s*=/.test(l.text)) report(mk(v, 'url-dependency', 'dependency-change', 'medium', l, '', 'a dependency is installed from a URL or git', 'depend on a released, pinned version'));
      const idx = /^\s*url\s*=\s*["'](https?:\/\/[^"']+)["']/.exec(l.text);
      if (idx && /index|simple|pypi/.test(idx[1]!)) {
        const host = hostOf(idx[1]!);
        if (host && !stdHost(host)) report(mk(v, 'index-url', 'dependency-change', 'high', l, '', `a package index at ${host} is added`, 'use the standard index or a vetted private mirror'));
      }
    }
  }

  if (/(^|\/)(\.npmrc|\.yarnrc|\.yarnrc\.yml|\.pnpmrc|pip\.conf|pip\.ini|\.pypirc|uv\.toml|\.bunfig\.toml|bunfig\.toml|\.cargo\/config(\.toml)?|nuget\.config|settings\.xml|\.gemrc|gemfile)$/.test(p)) {
    for (const l of v.added) {
      const m = /(?:registry|npmRegistryServer|index-url|extra-index-url|index|url|source|mirror)\s*[=:]\s*["']?(https?:\/\/[^\s"']+|[\w.-]+\.[a-z]{2,}[^\s"']*)/i.exec(l.text);
      if (!m) continue;
      const host = hostOf(m[1]!.startsWith('http') ? m[1]! : `https://${m[1]}`);
      if (host && !stdHost(host)) {
        report(mk(v, 'registry-change', 'dependency-change', 'high', l, '', `the package registry/index is switched to ${host}: every install now trusts that host to serve the right code`, 'keep the standard registry; scope a private registry to your own scope only (`@acme:registry=`)'));
      }
      if (/^\s*strict-ssl\s*=\s*false|^\s*enableStrictSsl\s*:\s*false/.test(l.text)) report(mk(v, 'registry-tls', 'dependency-change', 'high', l, '', 'TLS verification for the registry is turned off', 'remove strict-ssl=false'));
    }
  }

  if (/(^|\/)(package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|bun\.lock|poetry\.lock|pipfile\.lock|uv\.lock|cargo\.lock|gemfile\.lock|composer\.lock|pdm\.lock)$/.test(p)) {
    const seen = new Set<string>();
    for (const l of v.added) {
      const u = /(?:"resolved"\s*:\s*"|resolved\s+"?|tarball:\s*|"url"\s*:\s*"|url\s*=\s*"|source\s*=\s*"(?:registry\+|git\+)?|remote:\s*|"dist"[^\n]*"url"\s*:\s*")(https?:\/\/[^"\s#]+|git\+[^"\s]+|git:\/\/[^"\s]+)/.exec(l.text);
      if (!u) continue;
      const url = u[1]!.replace(/^git\+/, '');
      const host = hostOf(url);
      const hostPath = host && /^github\.com$/.test(host) ? `${host}${new URL(url.replace(/^ssh:\/\//, 'https://')).pathname.replace(/\.git$/, '')}` : host;
      if (host && (stdHost(host) || (hostPath && stdHost(hostPath)))) continue;
      const key = host ?? url;
      if (seen.has(key)) continue;
      seen.add(key);
      report(mk(v, 'lockfile-host', 'dependency-change', 'high', l, '', `the lockfile resolves a package from ${host ?? url}, not the standard registry: the lock now trusts that host (a classic dependency-confusion / hijacked-tarball route)`, 'regenerate the lockfile against the standard registry; if a private registry is intended, list it in review.registries'));
    }
  }

  if (/(^|\/)go\.mod$/.test(p)) {
    for (const l of v.added) {
      if (/^\s*replace\b|=>/.test(l.text)) report(mk(v, 'go-replace', 'dependency-change', /=>\s*(\.|\/)/.test(l.text) ? 'medium' : 'medium', l, '', 'a go.mod replace directive swaps a module for another source', 'avoid replace in published modules; review the replacement'));
    }
  }
  if (/(^|\/)cargo\.toml$/.test(p)) {
    for (const l of v.added) {
      if (/git\s*=\s*"|registry\s*=\s*"|path\s*=\s*"\.\./.test(l.text)) report(mk(v, 'cargo-source', 'dependency-change', 'medium', l, '', 'a crate is taken from git, a path outside the repo or another registry', 'depend on a released crates.io version'));
    }
  }
}

function checkSpec(v: FileView, report: Report, l: import('../types.js').HunkLine, name: string, spec: string, stdHost: (h: string) => boolean): void {
  if (/^(https?:|git\+|git:|github:|gitlab:|bitbucket:|gist:|file:|link:|[\w.-]+\/[\w.-]+(#.*)?$)/.test(spec)) {
    const host = hostOf(spec.replace(/^git\+/, '')) ?? (/^(github:|[\w.-]+\/[\w.-]+)/.test(spec) ? 'github.com' : null);
    const http = /^http:/.test(spec);
    const tarball = /\.(tgz|tar\.gz|zip)(\?|$)/.test(spec);
    const sev = http || (tarball && host && !stdHost(host) && !/github\.com$/.test(host)) ? 'high' : host && stdHost(host) ? 'low' : 'medium';
    report(mk(v, 'url-dependency', 'dependency-change', sev, l, '', `${name} is installed from ${spec.slice(0, 60)} instead of a registry version: the content behind a URL or branch can change without a version bump${http ? ', and over plain HTTP' : ''}`, 'depend on a published, pinned version'));
  }
}

function pyName(line: string): string | null {
  const m = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(line);
  return m ? m[1]!.toLowerCase().replace(/[._]/g, '-') : null;
}

function hostOf(url: string): string | null {
  try {
    return new URL(url.replace(/^git@([^:]+):/, 'ssh://$1/')).hostname.toLowerCase() || null;
  } catch {
    return null;
  }
}

/** A popular name this one imitates (edit distance 1, or 2 for long names, or separator/scope tricks), else null. */
export function typosquatOf(name: string, popular: ReadonlySet<string>): string | null {
  const n = name.toLowerCase();
  if (popular.has(n)) return null;
  const bare = n.replace(/^@[^/]+\//, '');
  const squash = (s: string) => s.replace(/[-_.]/g, '');
  for (const p of popular) {
    if (Math.abs(p.length - bare.length) > 2) continue;
    if (bare === p) return n.startsWith('@') ? null : null;
    if (squash(bare) === squash(p) && bare !== p) return p;
    if (p.length < 5) continue;
    const d = editDistance(bare, p, 2);
    if (d === 1 || (d === 2 && p.length >= 9)) return p;
  }
  return null;
}

/** Damerau–Levenshtein (optimal string alignment) distance, giving up above `max`. */
export function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) rows.push(new Array<number>(b.length + 1).fill(0));
  for (let i = 0; i <= a.length; i++) rows[i]![0] = i;
  for (let j = 0; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    let best = Infinity;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
      if (d < best) best = d;
    }
    if (best > max) return max + 1;
  }
  return rows[a.length]![b.length]!;
}
