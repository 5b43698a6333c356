#!/usr/bin/env python3
"""Keep docs/*.md and README.md true to the tree.

Every name the pages write in code style is looked up in the sources:

  paths        repository paths in backticks, in code blocks and in Markdown
               links (with their #anchors); build outputs (build/...) must be
               named by the Makefile or the scripts it runs
  make         `make TARGET` must be a rule or .PHONY target of the Makefile,
               and every knob NAME= given to make must appear in it
  options      kernel command-line options (`ktest=all`, `slab_debug`...) must
               be known to kernel/boot/options.c or read with option(); the
               values compared with strcmp (`fork=copy`) and ktest names too
  identifiers  C-looking names (`alloc_pages()`, `struct mem_node`, `PT_W`)
               must occur in the code of the sources (comments stripped), or
               be one of the few outside names listed in OUTSIDE_NAMES
  counts       no literal test counts ("23 cases", "9 passed, 0 failed"):
               only the format string "N passed, N failed"
  references   the repository stands alone: no issue numbers, no mention of
               the design notes or of the source-document folder and its
               numbered files, in the pages and in the source files

Each stale name is one line, "FILE:LINE: stale NAME (kind)"; each check then
prints "ok - docs/<check>" or "not ok - docs/<check>: reason", the format of
the other tests, and the exit status is 1 when anything is stale.

  python3 tests/docs_check.py              check the tree (about a second)
  python3 tests/docs_check.py --self-test  run every check on small fixtures
                                           that must fail, and on clean ones
                                           that must pass

`make test` runs both through tests/run_all.py.
"""
import argparse
import fnmatch
import io
import os
import re
import shlex
import sys
import tempfile
import tokenize

HERE = os.path.dirname(os.path.abspath(__file__))
SELF = os.path.abspath(__file__)

# Names the pages legitimately use that are defined outside this tree:
# Linux's own functions and constants (the pages compare mmk with Linux) and
# libc names.  Instruction and register names (iretq, CR3) need no entry: a
# word without an underscore or "()" is not taken for an identifier.  Nor
# does a name right after "Linux's", "Bonwick's"... (OWNER_RE): the page says
# whose name it is.  Keep this list short; a stale mmk name must never be
# added here.
OUTSIDE_NAMES = {
    # Linux's kernel-internal names
    "copy_page_range", "copy_pte_range", "create_elf_tables", "arch_align_stack",
    "may_open", "compat_ssize_t", "old_timespec32",
    # Linux's user ABI: auxiliary vector, ELF program headers, mmap/madvise and
    # rlimit constants, personality flags, libc structures
    "AT_SYSINFO", "AT_SYSINFO_EHDR", "AT_MINSIGSTKSZ", "AT_RSEQ_FEATURE_SIZE",
    "AT_RSEQ_ALIGN", "PT_GNU_RELRO", "PT_GNU_PROPERTY", "PROT_GROWSDOWN",
    "MADV_HUGEPAGE", "RLIMIT_NPROC", "READ_IMPLIES_EXEC", "sigaction", "pthread_self",
    # the CPU's IA32_SYSENTER_CS model-specific register
    "SYSENTER_CS",
    # QEMU's -drive property (not a kernel option)
    "snapshot=on",
}
OWNER_RE = re.compile(r"\b(?:Linux|Bonwick|musl|glibc|libc|Intel|POSIX|GNU ld|xv6)(?:'s)?\b"
                      r"[^.`;:]{0,30}$")

# File-name extensions that make a token a path even outside the known
# top-level folders (boot/kernel.elf on the EFI partition, kelf.c).
PATH_EXTS = {"c", "h", "S", "s", "py", "sh", "ld", "md", "txt", "elf", "img", "cpio",
             "EFI", "efi", "psf", "log", "out", "o", "tbl"}
SOURCE_EXTS = (".c", ".h", ".S", ".py", ".sh", ".ld")
# Where a stray reference is looked for besides the pages.
REFERENCE_ROOTS = ("mm", "kernel", "compat32", "include", "efi", "tests", "tools", "Makefile")

IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
CODE_SPAN_RE = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.S)
LINK_RE = re.compile(r"!?\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFLINK_RE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*(\S+)", re.M)
FENCE_RE = re.compile(r"^\s*(```+|~~~+)")
OPT_WORD_RE = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*(?:=\S*)?$")
KNOB_RE = re.compile(r"([A-Z][A-Z0-9_]*)=(.*)$", re.S)
PLACEHOLDER_RE = re.compile(r"<[^<>/]*>|\.\.\.|\*")

# What a stale reference looks like (written so that this file does not
# match itself).
REFERENCE_RES = [
    re.compile(r"\bissue\s*#?\d+", re.I),
    re.compile(r"\bDESIGN\.md\b"),
    re.compile(r"\bseeds?/"),
    re.compile(r"\bseeds?\s+0\d\d\b(?:\s*(?:and|/|,)\s*0\d\d\b)*", re.I),
    re.compile(r"\b0\d\d_[\w*.-]*\.txt\b"),
]
COUNT_RES = [
    re.compile(r"\b\d+\s+passed\b"),
    re.compile(r"\b\d+\s+(?:[a-z-]+\s+)?(?:tests|test cases|cases|test programs)\b"),
]


# ---- reading the tree ----------------------------------------------------------

def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def strip_c_comments(text):
    """Comments out, strings kept (option names live in strings)."""
    def keep(m):
        s = m.group(0)
        return " " if s.startswith("/") else s
    return re.sub(r"//[^\n]*|/\*.*?\*/|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'",
                  keep, text, flags=re.S)


def strip_hash_comments(text):
    """Shell and Makefile comments: a # at the start of a word, outside quotes."""
    out = []
    for line in text.split("\n"):
        quote, cut = None, len(line)
        for i, ch in enumerate(line):
            if quote:
                if ch == quote:
                    quote = None
            elif ch in "\"'":
                quote = ch
            elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
                cut = i
                break
        out.append(line[:cut])
    return "\n".join(out)


def strip_py_comments(text):
    try:
        toks = tokenize.generate_tokens(io.StringIO(text).readline)
        return " ".join(t.string for t in toks if t.type != tokenize.COMMENT)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return strip_hash_comments(text)


def code_of(rel, text):
    if rel.endswith((".c", ".h", ".ld")):
        return strip_c_comments(text)
    if rel.endswith(".S"):
        return strip_hash_comments(strip_c_comments(text))
    if rel.endswith(".py"):
        return strip_py_comments(text)
    return strip_hash_comments(text)


class Makefile:
    """Rules, .PHONY targets and variables of one Makefile, enough to tell
    whether `make X` and `make NAME=...` mean something to it."""

    def __init__(self, text):
        self.text = text
        self.vars = {}
        self.targets = set()
        self.phony = set()
        logical, cur = [], ""
        for line in text.split("\n"):
            if line.startswith("\t"):          # recipe
                continue
            line = strip_hash_comments(line)
            if line.endswith("\\"):
                cur += line[:-1] + " "
                continue
            logical.append(cur + line)
            cur = ""
        for line in logical:
            if re.match(r"\s*\$[({](?:info|warning|error|shell|eval)\b", line):
                continue
            m = re.match(r"\s*(?:override\s+|export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*(::?=|\?=|\+=|=)(.*)", line)
            if m:
                name, op, val = m.group(1), m.group(2), m.group(3).strip()
                self.vars[name] = (self.vars.get(name, "") + " " + val) if op == "+=" else val
                continue
            m = re.match(r"([^:=#]+?)\s*::?(?!=)(.*)", line)
            if m and m.group(1).strip() and not m.group(1).strip().startswith(("ifeq", "ifneq",
                                                                                "ifdef", "ifndef",
                                                                                "-include", "include")):
                tgts = m.group(1).split()
                if tgts == [".PHONY"]:
                    self.phony.update(m.group(2).split())
                else:
                    self.targets.update(tgts)
        self.patterns = set()
        for t in self.targets:
            for e in self.expand(t).split():
                self.patterns.add(e.replace("%", "*"))

    def expand(self, s, depth=0):
        if depth > 8:
            return s

        def sub(m):
            inner = m.group(1)
            if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", inner):
                return self.expand(self.vars.get(inner, "*"), depth + 1)
            ref = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*):([^=]*)=(.*)", inner)
            if ref:                              # $(VAR:pat=repl)
                pat, repl = ref.group(2), ref.group(3)
                words = self.expand(self.vars.get(ref.group(1), ""), depth + 1).split()
                out = []
                for w in words:
                    if "%" in pat:
                        pre, post = pat.split("%", 1)
                        if w.startswith(pre) and w.endswith(post):
                            stem = w[len(pre):len(w) - len(post)]
                            w = repl.replace("%", stem)
                    elif w.endswith(pat):
                        w = w[:len(w) - len(pat)] + repl
                    out.append(self.expand(w, depth + 1))
                return " ".join(out)
            return "*"                           # a function: anything
        return re.sub(r"\$[({]([^(){}]*)[)}]", sub, s)

    def has_target(self, name):
        if name in self.targets or name in self.phony:
            return True
        return any(fnmatch.fnmatchcase(name, p) for p in self.patterns)

    def has_var(self, name):
        return name in self.vars or re.search(r"\$[({]%s[):}]" % re.escape(name), self.text) \
            is not None


class Tree:
    """Everything the checks compare the pages with, read once."""

    def __init__(self, root):
        self.root = root
        self.files, self.dirs, self.basenames = set(), set(), set()
        self.top = set()
        sources = {}
        for dirpath, dirnames, filenames in os.walk(root):
            rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
            if rel_dir == ".":
                rel_dir = ""
                # build outputs and git are not part of the tree
                dirnames[:] = [d for d in dirnames if d != ".git" and not d.startswith("build")]
                self.top.update(dirnames)
                self.top.update(filenames)
            dirnames.sort()
            for d in dirnames:
                self.dirs.add((rel_dir + "/" + d).lstrip("/"))
            for f in filenames:
                rel = (rel_dir + "/" + f).lstrip("/")
                self.files.add(rel)
                self.basenames.add(f)
                full = os.path.join(dirpath, f)
                if os.path.abspath(full) == SELF:
                    continue
                if f.endswith(SOURCE_EXTS) or f == "Makefile" or rel == ".ci/run":
                    sources[rel] = read(full)
        self.top.add("build")
        self.all_paths = self.files | self.dirs
        self.sources = sources
        self.makefile = Makefile(sources.get("Makefile", ""))
        # Build outputs are named by the Makefile and the scripts it runs.
        self.build_text = "\n".join(t for r, t in sources.items()
                                    if r == "Makefile" or r.startswith(("tools/", "tests/"))
                                    and r.endswith((".py", ".sh")))
        self.idents = set()
        self.code = {}
        for rel, text in sources.items():
            code = code_of(rel, text)
            self.code[rel] = code
            self.idents.update(IDENT_RE.findall(code))
        self.ktests = set(re.findall(r"\bKTEST\(\s*([A-Za-z_]\w*)\s*\)",
                                     "\n".join(t for r, t in self.code.items()
                                               if r.endswith(".c"))))
        self.options, self.option_values = self._options()
        # The initrd's program names: /bin/X for X in USER_TESTS, and /bin/X32
        # for the i386 builds (the Makefile's initrd rule appends the 32).
        mk = self.makefile
        self.programs = set(mk.expand("$(USER_TESTS)").split())
        self.programs.update(p + "32" for p in
                             mk.expand("$(USER32_TESTS) $(USER32_PROGS)").split())
        self.docs = []
        for rel in ["README.md"] + sorted(f for f in self.files
                                          if f.startswith("docs/") and f.endswith(".md")
                                          and "/" not in f[5:]):
            if rel in self.files:
                self.docs.append(rel)
        self._headings = {}

    def _options(self):
        """The option names the kernel knows: the `known` table of
        kernel/boot/options.c and every option("...")/cmdline_get(..., "...")
        call; for an option whose value is compared with strcmp, the values
        it accepts (plus the words of its help text, which names the default)."""
        names, values, helps = set(), {}, {}
        table = self.code.get("kernel/boot/options.c", "")
        m = re.search(r"known\s*\[\s*\]\s*=\s*\{(.*?)\n\};", table, re.S)
        if m:
            for e in re.finditer(r"\{\s*\"([^\"]+)\"\s*,((?:\s*\"(?:\\.|[^\"\\])*\")+)\s*\}",
                                 m.group(1)):
                names.add(e.group(1))
                helps[e.group(1)] = " ".join(re.findall(r"\"((?:\\.|[^\"\\])*)\"", e.group(2)))
        for rel, code in self.code.items():
            if not rel.endswith(".c") or rel.startswith("tests/"):
                continue
            for key in re.findall(r"\b(?:option|cmdline_get)\s*\([^\"()]*?\"([^\"]+)\"", code):
                names.add(key)
            for var, key in re.findall(r"\b([A-Za-z_]\w*)\s*=\s*option\s*\(\s*\"([^\"]+)\"\s*\)",
                                       code):
                lits = re.findall(r"\bstrn?cmp\s*\(\s*%s\s*,\s*\"([^\"]*)\"" % re.escape(var), code)
                if lits:
                    values.setdefault(key, set()).update(lits)
        # the help text names values too, the default among them:
        # "exit (QEMU isa-debug-exit, default) or halt", "fork=copy: ..."
        for key in values:
            h = helps.get(key, "")
            values[key].update(re.findall(r"\b([a-z0-9_]+)\s*\(", h))
            values[key].update(re.findall(r"=([a-z0-9_]+)", h))
        return names, values

    # -- lookups --

    def exists(self, rel):
        rel = rel.rstrip("/")
        if rel in ("", "."):
            return True
        if rel in self.files or rel in self.dirs:
            return True
        if any(c in rel for c in "*?["):
            return any(fnmatch.fnmatchcase(p, rel) for p in self.all_paths)
        return False

    def headings(self, rel):
        """GitHub's anchors for the headings of a page."""
        if rel not in self._headings:
            slugs, seen = set(), {}
            text = read(os.path.join(self.root, rel)) if rel in self.files else ""
            in_fence = False
            for line in text.split("\n"):
                if FENCE_RE.match(line):
                    in_fence = not in_fence
                    continue
                m = None if in_fence else re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
                if m:
                    title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", m.group(1))
                    slug = re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")
                    n = seen.get(slug, 0)
                    seen[slug] = n + 1
                    slugs.add(slug if n == 0 else "%s-%d" % (slug, n))
            self._headings[rel] = slugs
        return self._headings[rel]


# ---- reading a page ----------------------------------------------------------------

class Span:
    """A piece of code-style text of a page: an inline `span`, a line of a
    fenced block, or a link target."""

    def __init__(self, kind, text, line, before="", table_head="", first_cell=False):
        self.kind, self.text, self.line = kind, text, line
        self.before = before            # the text before it: its line, the one above
        self.table_head = table_head    # first header cell of the table it sits in
        self.first_cell = first_cell    # in the first column of that table
        self.after = ""                 # its whole line (set by run_checks)


def page_spans(text):
    lines = text.split("\n")
    spans = []
    prose = []
    in_fence = None
    for i, line in enumerate(lines):
        m = FENCE_RE.match(line)
        if in_fence:
            if m and m.group(1)[0] == in_fence[0] and len(m.group(1)) >= len(in_fence):
                in_fence = None
            else:
                spans.append(Span("fence", line, i + 1))
            prose.append("")
            continue
        if m:
            in_fence = m.group(1)
            prose.append("")
            continue
        prose.append(line)
    # inline code and links, outside fences; a span may wrap onto the next line
    # but not cross a paragraph break
    starts = []
    pos = 0
    for ln in prose:
        starts.append(pos)
        pos += len(ln) + 1
    flat = "\n".join(prose)

    def line_of(off):
        lo, hi = 0, len(starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if starts[mid] <= off:
                lo = mid
            else:
                hi = mid - 1
        return lo

    heads = table_heads(prose)
    blanked = list(flat)
    found = []
    for para in re.finditer(r"(?:[^\n]|\n(?![ \t]*(?:\n|$)))+", flat):
        found += [(m.start() + para.start(), m.end() + para.start(), m.group(2))
                  for m in CODE_SPAN_RE.finditer(para.group(0))]
    for start, end, body in found:
        li = line_of(start)
        before = flat[starts[li - 1] if li else 0:start]
        head, first = heads.get(li, ("", False))
        if first:
            first = flat[starts[li]:start].strip().lstrip("|").count("|") == 0
        spans.append(Span("code", body.replace("\n", " ").strip(), li + 1, before, head, first))
        for k in range(start, end):
            if blanked[k] != "\n":
                blanked[k] = " "
    rest = "".join(blanked)
    for m in LINK_RE.finditer(rest):
        spans.append(Span("link", m.group(2), line_of(m.start()) + 1))
    for m in REFLINK_RE.finditer(rest):
        spans.append(Span("link", m.group(1), line_of(m.start(1)) + 1))
    return spans


def table_heads(lines):
    """Line index -> (first header cell, True) for the body rows of tables."""
    out = {}
    head = None
    for i, line in enumerate(lines):
        s = line.strip()
        if not s.startswith("|"):
            head = None
            continue
        if head is None:
            if i + 1 < len(lines) and re.match(r"\s*\|?\s*:?-{3,}", lines[i + 1]):
                head = s.strip("|").split("|")[0].strip().strip("`").lower()
            continue
        if re.match(r"\|?\s*:?-{3,}", s):
            continue
        out[i] = (head, True)
    return out


# ---- the checks ----------------------------------------------------------------------

class Problems:
    def __init__(self):
        self.items = []

    def add(self, where, line, name, kind):
        item = (where, line, name, kind)
        if item not in self.items:
            self.items.append(item)


# The capitalised words the pages use for "any name" in a path.
PLACEHOLDER_WORDS = r"NAME|BASE|PATH|DIR|FILE|PROG|PROGRAM|CASE|TARGET|N|X"


def placeholder_rx(text):
    """A path or name with <name>, *, ... or NAME-style placeholders as a regex."""
    out = ""
    words = r"<[^<>/]*>|\.\.\.|\*|\b(?:%s)\d*\b" % PLACEHOLDER_WORDS
    for part in re.split("(%s)" % words, text):
        if not part:
            continue
        if re.fullmatch(words, part):
            out += r"[\w.+-]*"
        else:
            out += re.escape(part)
    return out


def shell_words(text):
    try:
        return shlex.split(text, comments=True)
    except ValueError:
        return text.split()


# paths --------------------------------------------------------------------------------

def path_token(tok, tree, fence):
    """The repository path a token names, or None when it is not one."""
    tok = tok.strip("'\"(),;[]{}")
    tok = re.sub(r":\d+(?::\d+)?:?$", "", tok).rstrip(".:")
    if not tok or "/" not in tok and "." not in tok:
        return None
    if tok.startswith(("/", "~", "\\", "-", "$", "=", "+", "::")) or "://" in tok or "\\" in tok:
        return None
    if re.search(r"[=@%|&^]", tok):
        return None
    parts = [p for p in tok.split("/") if p not in (".", "..")]
    if not parts or not parts[0]:
        return None
    last = parts[-1] or (parts[-2] if len(parts) > 1 else "")
    ext = last.rsplit(".", 1)[1] if "." in last else ""
    if "/" in tok:
        if parts[0] in tree.top or (not fence and ext in PATH_EXTS):
            return tok
        return None
    if not fence and ext in PATH_EXTS and re.fullmatch(r"[\w*<>.+-]+", tok) \
            and not re.fullmatch(r"[\d.]+", tok) and "*" not in ext:
        return tok
    return None


def build_output_ok(rel, tree):
    """build/X/Y: each part named in the Makefile or the scripts it runs
    (placeholders such as <name>, NAME or * match any name)."""
    rest = rel.split("/", 1)[1] if "/" in rel else ""
    if not rest.strip("/"):
        return True
    for part in rest.strip("/").split("/"):
        rx = placeholder_rx(part)
        if rx.replace(r"[\w.+-]*", "") == "":
            continue
        if not re.search(r"(?<![\w-])%s(?![\w-])" % rx, tree.build_text):
            return False
    return True


def path_ok(tok, doc, tree):
    docdir = os.path.dirname(doc)
    cands = [os.path.normpath(tok).replace(os.sep, "/")]
    if docdir:
        cands.append(os.path.normpath(os.path.join(docdir, tok)).replace(os.sep, "/"))
    for c in cands:
        if c.startswith(".."):
            continue
        if c.split("/")[0] == "build":
            if build_output_ok(c, tree):
                return True
            continue
        glob = PLACEHOLDER_RE.sub("*", c) + ("/" if tok.endswith("/") else "")
        if tree.exists(glob):
            return True
        # NAME-style placeholders (tests/user/NAME.c)
        rx = placeholder_rx(c.rstrip("/"))
        if rx != re.escape(c.rstrip("/")) and any(re.fullmatch(rx, p) for p in tree.all_paths):
            return True
    if "/" not in tok.rstrip("/"):
        name = tok.rstrip("/")
        rx = placeholder_rx(name)
        if any(re.fullmatch(rx, b) for b in tree.basenames):
            return True
    elif tok.split("/")[0] in tree.top:
        # a repository path exists, or is a name the Makefile spells like one
        # (its tests/host/<name>_SRCS variables)
        return re.search(r"(?<![\w.-])%s(?![\w-])" % placeholder_rx(tok.lstrip("./")),
                         tree.makefile.text) is not None
    # a file of the EFI partition or the initrd, made by the build
    if re.search(r"(?<![\w.-])%s(?![\w-])" % placeholder_rx(tok.lstrip("./")), tree.build_text):
        return True
    if tree.exists("esp/" + tok):
        return True
    return False


def check_link(target, doc, tree):
    """A Markdown link: the file must exist, and the #anchor of a page too."""
    if re.match(r"[a-z][a-z0-9+.-]*:", target):        # http:, mailto:...
        return True
    path, _, anchor = target.partition("#")
    docdir = os.path.dirname(doc)
    rel = os.path.normpath(os.path.join(docdir, path)).replace(os.sep, "/") if path else doc
    if rel.startswith("..") or not tree.exists(rel):
        return False
    if anchor and rel.endswith(".md"):
        return anchor.lower() in tree.headings(rel)
    return True


def check_paths(tree, docs, out):
    for doc, spans in docs:
        for sp in spans:
            if sp.kind == "link":
                if not check_link(sp.text, doc, tree):
                    out.add(doc, sp.line, sp.text, "path")
                continue
            text = sp.text
            fence = sp.kind == "fence"
            # #include <kernel/ktest.h> is a path under include/
            for inc in re.findall(r"#\s*include\s*[<\"]([^>\"]+)[>\"]", text):
                first = inc.split("/")[0]
                if "/" in inc and tree.exists("include/" + first) and \
                        not tree.exists("include/" + inc):
                    out.add(doc, sp.line, inc, "path")
            text = re.sub(r"#\s*include\s*[<\"][^>\"]+[>\"]", " ", text)
            targets = {w for args in make_commands(text) for w in args}  # the make check's
            for word in re.split(r"[\s,;()]+|&&|\|\|", text):
                knob = KNOB_RE.match(word)
                if knob:                        # ELF=build/user/ordinary
                    word = knob.group(2)
                tok = path_token(word, tree, fence)
                if tok is None or word in targets or path_ok(tok, doc, tree):
                    continue
                if OWNER_RE.search(sp.before):
                    continue                  # a path of Linux's tree, not ours
                if any(rx.search(tok) for rx in REFERENCE_RES):
                    continue                  # reported by the references check
                out.add(doc, sp.line, tok, "path")


# make targets and knobs -------------------------------------------------------------

def make_commands(text):
    """The argument lists of the make commands in a piece of shell."""
    if "make" not in text:
        return
    text = re.sub(r"^\s*\$\s+", "", text)
    for seg in re.split(r"&&|\|\||;|\|(?!\S*\])", text):
        words = shell_words(seg)
        while words and KNOB_RE.match(words[0]):
            words = words[1:]
        if words and words[0] == "make":
            yield [w.strip("[]") for w in words[1:] if w.strip("[]")]


def check_make(tree, docs, out):
    mk = tree.makefile
    for doc, spans in docs:
        for sp in spans:
            if sp.kind == "link":
                continue
            for args in make_commands(sp.text):
                for w in args:
                    if w.startswith("-") or w in ("...", "…"):
                        continue
                    m = KNOB_RE.match(w)
                    if m:
                        if not mk.has_var(m.group(1)):
                            out.add(doc, sp.line, m.group(1) + "=", "make knob")
                        continue
                    if not re.fullmatch(r"[\w./+-]+", w):
                        continue                      # a placeholder such as <target>
                    if "/" in w:
                        # a file: a rule must make it, and its name be known
                        if w.split("/")[0] == "build":
                            ok = mk.has_target(mk.expand("$(BUILD)") + w[len("build"):]) \
                                and build_output_ok(w, tree)
                        else:
                            ok = mk.has_target(w) or tree.exists(w)
                        if not ok:
                            out.add(doc, sp.line, w, "make target")
                    elif not mk.has_target(w):
                        out.add(doc, sp.line, w, "make target")
            # a knob on its own (the Knobs table): in the Makefile or read by a script
            if sp.kind == "code" and not sp.text.startswith("make"):
                m = re.fullmatch(r"([A-Z][A-Z0-9_]*)=\S*", sp.text) or \
                    (re.fullmatch(r"([A-Z][A-Z0-9_]*)=.*", sp.text)
                     if sp.table_head == "knob" else None)
                if m and not mk.has_var(m.group(1)) and m.group(1) not in tree.idents:
                    out.add(doc, sp.line, m.group(1) + "=", "make knob")


# kernel command-line options ----------------------------------------------------------

def is_placeholder(v):
    return bool(re.fullmatch(r"<[^>]*>|\.\.\.|[A-Z][A-Z0-9_]*|name\d*|[a-z]|my_\w*|\w*\.\.\.|"
                             r"key|value", v))


def check_option_word(word, sp, doc, tree, out):
    key, eq, val = word.partition("=")
    if word in OUTSIDE_NAMES or is_placeholder(key):
        return
    if key not in tree.options:
        # the page may show an unknown option on purpose, and say so
        if re.search(r"unknown option '%s'" % re.escape(key), sp.before + sp.text + sp.after):
            return
        out.add(doc, sp.line, word, "option")
        return
    if not eq or not val or is_placeholder(val) or val.startswith("/"):
        return
    if key == "ktest":
        for name in val.split(","):
            if not name or name == "all" or is_placeholder(name):
                continue
            if name.endswith("*"):
                if not any(t.startswith(name[:-1]) for t in tree.ktests):
                    out.add(doc, sp.line, "ktest=" + name, "option")
            elif name not in tree.ktests:
                out.add(doc, sp.line, "ktest=" + name, "option")
    elif key in tree.option_values and val not in tree.option_values[key]:
        out.add(doc, sp.line, word, "option")


def cmdline_words(line):
    words = []
    for w in line.split():
        if w == "--":
            break
        words.append(w)
    return words


def check_options(tree, docs, out):
    for doc, spans in docs:
        for sp in spans:
            if sp.kind == "link":
                continue
            lines = []
            # the value of CMDLINE= given to make, or of --cmdline
            for args in make_commands(sp.text):
                lines += [a[len("CMDLINE="):] for a in args if a.startswith("CMDLINE=")]
            for m in re.finditer(r"--cmdline[= ]+(\"[^\"]*\"|'[^']*'|\S+)", sp.text):
                lines.append(m.group(1).strip("\"'"))
            if sp.kind == "code":
                words = cmdline_words(sp.text)
                opt_like = words and all(OPT_WORD_RE.match(w) for w in words)
                if opt_like and (any("=" in w for w in words) or
                                 (sp.table_head == "option" and sp.first_cell)):
                    lines.append(sp.text)
            for line in lines:
                for w in cmdline_words(line):
                    if OPT_WORD_RE.match(w):
                        check_option_word(w, sp, doc, tree, out)
                    elif not is_placeholder(w):
                        out.add(doc, sp.line, w, "option")


# identifiers ---------------------------------------------------------------------------

def ident_names(span):
    """The names a code span uses as C identifiers, each with whether it is
    a prefix (`vm_*`).  Only spans that are a name, a call, a member chain
    or `struct x` count; prose and expressions in backticks are left alone."""
    s = span.strip()
    chain = r"[A-Za-z_]\w*(?:(?:\.|->)[A-Za-z_]\w*)*"
    m = re.fullmatch(r"(?:struct|union|enum)\s+([A-Za-z_]\w*)\s*\**\s*(?:\{.*\})?", s)
    if m:
        return [(m.group(1), False)]
    m = re.fullmatch(r"(%s)\s*\((.*)\)" % chain, s, re.S)
    if m:
        parts = re.split(r"\.|->", m.group(1))
        names = [(p, False) for p in parts[:-1] if "_" in p] + [(parts[-1], False)]
        args = re.sub(r"\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'", " ", m.group(2))
        if re.search(r"[{}\[\];]", args):
            return names
        for a in IDENT_RE.findall(args):
            if "_" in a.strip("_") or a.startswith("__"):
                names.append((a, False))
        return names
    m = re.fullmatch(chain, s)
    if m and s.rsplit(".", 1)[-1] in PATH_EXTS and "." in s:
        return []                          # a file name: syscall_32.tbl
    if m:
        return [(p, p.endswith("_")) for p in re.split(r"\.|->", s) if "_" in p]
    m = re.fullmatch(r"([A-Za-z_]\w*)(?:\*|\.\.\.)", s)
    if m and "_" in m.group(1):
        return [(m.group(1), True)]
    m = re.fullmatch(r"([A-Za-z_]\w*)(?:/\w+)+", s)
    if m and "_" in m.group(1):
        return [(m.group(1), False)]
    return []


def check_identifiers(tree, docs, out):
    prefixes = {}

    def has_prefix(p):
        if p not in prefixes:
            prefixes[p] = any(i.startswith(p) and i != p for i in tree.idents)
        return prefixes[p]

    for doc, spans in docs:
        for sp in spans:
            if sp.kind != "code" or sp.text in OUTSIDE_NAMES or OWNER_RE.search(sp.before):
                continue
            if sp.table_head == "option" and sp.first_cell:
                continue
            for name, prefix in ident_names(sp.text):
                if name in OUTSIDE_NAMES or name in tree.idents or name in tree.programs:
                    continue
                if prefix and has_prefix(name):
                    continue
                # a placeholder part: kt_name, fuzz_NAME
                rx = re.sub(r"(?:(?<=_)|^)(?:name|NAME|X|N)(?=_|$)", r"\\w+", re.escape(name))
                if rx != re.escape(name) and any(re.fullmatch(rx, i) for i in tree.idents):
                    continue
                out.add(doc, sp.line, name + ("*" if prefix else ""), "identifier")


# counts and references -------------------------------------------------------------

def check_counts(tree, texts, out):
    for doc, text in texts:
        for i, line in enumerate(text.split("\n")):
            for rx in COUNT_RES:
                for m in rx.finditer(line):
                    out.add(doc, i + 1, m.group(0), "count")


def reference_files(tree):
    for rel in sorted(tree.files):
        top = rel.split("/")[0]
        if top in REFERENCE_ROOTS and (rel.endswith(SOURCE_EXTS) or rel == "Makefile"):
            yield rel


REFERENCE_HINTS = ("issue", "design", "seed", ".txt")


def check_references(tree, texts, out):
    files = list(texts)
    for rel in reference_files(tree):
        text = tree.sources.get(rel)
        files.append((rel, read(os.path.join(tree.root, rel)) if text is None else text))
    for rel, text in files:
        # a cheap look first: the regexes are slow over two megabytes
        low = text.lower()
        if not any(h in low for h in REFERENCE_HINTS):
            continue
        for i, line in enumerate(text.split("\n")):
            low = line.lower()
            if not any(h in low for h in REFERENCE_HINTS):
                continue
            for rx in REFERENCE_RES:
                for m in rx.finditer(line):
                    out.add(rel, i + 1, m.group(0), "reference")


CHECKS = [
    ("paths", check_paths, "spans"),
    ("make", check_make, "spans"),
    ("options", check_options, "spans"),
    ("identifiers", check_identifiers, "spans"),
    ("counts", check_counts, "texts"),
    ("references", check_references, "texts"),
]


def run_checks(root):
    """{check name: [(file, line, name, kind)]} for the tree at root."""
    tree = Tree(root)
    texts = [(d, read(os.path.join(root, d))) for d in tree.docs]
    docs = []
    for d, t in texts:
        spans = page_spans(t)
        lines = t.split("\n")
        for sp in spans:
            sp.after = lines[sp.line - 1] if 0 < sp.line <= len(lines) else ""
        docs.append((d, spans))
    results = {}
    for name, fn, what in CHECKS:
        out = Problems()
        fn(tree, docs if what == "spans" else texts, out)
        results[name] = sorted(out.items, key=lambda p: (not p[0].endswith(".md"), p[0], p[1]))
    return results


def report(results, prefix="docs/"):
    bad = 0
    for name, _, _ in CHECKS:
        items = results[name]
        for where, line, what, kind in items:
            print("%s:%d: stale %s (%s)" % (where, line, what, kind))
        if items:
            bad += 1
            print("not ok - %s%s: %d stale name%s" % (prefix, name, len(items),
                                                       "" if len(items) == 1 else "s"))
        else:
            print("ok - %s%s" % (prefix, name))
    return bad


# ---- self-test: fixtures every check must fail on --------------------------------------

FIXTURE_SOURCES = {
    "Makefile": (
        "BUILD := build\nMEM ?= 1G\nHOST_TESTS := tests/host/test_buddy\n.PHONY: all run test\nall: $(BUILD)/esp.img\n"
        "$(BUILD)/esp.img: mm/buddy.c\n\ttouch $@\n"
        "$(BUILD)/host/%: tests/host/%.c\n\tcc -o $@ $<\n"
        "run: all\n\tqemu -m $(MEM) $(GUI)\ntest: all\n\ttrue\n"),
    "mm/buddy.c": (
        "/* the buddy allocator; alloc_gone only in this comment */\n"
        "struct mem_node { int n; };\n"
        "int alloc_pages(int gfp) { return gfp | GFP_KERNEL; }\n"),
    "include/mm/page.h": "#define PT_W 2\n#define GFP_KERNEL 1\n",
    "tests/host/test_buddy.c": "int main(void) { return 0; }\n",
    "tests/kernel/test_vm.c": "KTEST(vm_tlb_calls) { }\nKTEST(pmm_zones) { }\n",
    "kernel/boot/options.c": (
        "static const struct { const char *key; const char *help; } known[] = {\n"
        "    { \"ktest\", \"run in-kernel tests\" },\n"
        "    { \"ktest.end\", \"after the tests: exit (the default) or halt\" },\n"
        "    { \"slab_debug\", \"slab debugging\" },\n"
        "};\n"
        "void f(void) { const char *end = option(\"ktest.end\");\n"
        "  if (end && strcmp(end, \"halt\") == 0) halt(); if (option(\"nosmep\")) g(); }\n"),
    "docs/other.md": "# Other page\n\n## A section\n",
}

# (check, good text, bad text, names the bad text must produce)
FIXTURE_CASES = [
    ("paths",
     "See `mm/buddy.c`, `include/mm/page.h`, `tests/host/`, `tests/host/test_*.c`,\n"
     "`build/esp.img`, `tests/host/<name>.c`, [a](other.md#a-section),\n"
     "[b](../mm/buddy.c), Linux's `fs/namei.c`.\n\n```c\n#include <mm/page.h>\n```\n",
     "See `mm/fault.c`, `include/mm/pt_i386.h`, `build/kernel.bin`, `mm/old/`,\n"
     "[a](gone.md), [b](other.md#no-such-section).\n\n```c\n#include <mm/gone.h>\n```\n",
     {"mm/fault.c", "include/mm/pt_i386.h", "build/kernel.bin", "mm/old/", "gone.md",
      "other.md#no-such-section", "mm/gone.h"}),
    ("make",
     "Run `make run MEM=2G GUI=1`, `make test`, `make build/host/tests/host/test_buddy`;\n"
     "set `MEM=...`.\n"
     "\n```sh\nmake run MEM=128M   # small\n```\n",
     "Run `make bench`, `make run FOO=1`, `make build/host/tests/host/test_gone`;\n"
     "set `BAR=1`.\n\n```sh\nmake fuzz\n```\n",
     {"bench", "FOO=", "fuzz", "build/host/tests/host/test_gone", "BAR="}),
    ("options",
     "Boot with `ktest=all`, `ktest=vm_*`, `ktest.end=halt`, `ktest.end=exit` or\n"
     "`make run CMDLINE=\"slab_debug ktest=pmm_zones\"`;\n"
     "`ktest=all unknown.x=1` reports `cmdline: unknown option 'unknown.x' ignored`.\n\n"
     "| option | meaning |\n|---|---|\n| `nosmep` | no SMEP |\n",
     "Boot with `ktest.exit=halt`, `ktest.end=stop`, `ktest=gone_test`,\n"
     "`make run CMDLINE=\"slab_dbg\"`.\n\n"
     "| option | meaning |\n|---|---|\n| `nosmap` | no SMAP |\n",
     {"ktest.exit=halt", "ktest.end=stop", "ktest=gone_test", "slab_dbg", "nosmap"}),
    ("identifiers",
     "Call `alloc_pages()`, `alloc_pages(GFP_KERNEL)`, use `struct mem_node`, `PT_W`,\n"
     "`GFP_KERNEL`, `vm_*`, Linux's `copy_page_range`, and `iretq`, `CR3`, `kmain`.\n",
     "Call `alloc_gone()`, `struct mm_node`, `PT_WRITE`, `zzz_*`, `kfree_gone`.\n",
     {"alloc_gone", "mm_node", "PT_WRITE", "zzz_*", "kfree_gone"}),
    ("counts",
     "The run ends with `N passed, N failed`; three layers of tests.\n",
     "It prints 9 passed, 0 failed (661 passed) and has 23 cases and 12 tests.\n",
     {"9 passed", "661 passed", "23 cases", "12 tests"}),
    ("references",
     "The course slides on Linux's allocators describe the buddy allocator.\n",
     "As " + "iss" + "ue 12 says, see DESIGN" + ".md and see" + "ds/00" + "2_x.txt (se" +
     "ed 003).\n",
     {"iss" + "ue 12", "DESIGN" + ".md", "see" + "ds/", "00" + "2_x.txt", "se" + "ed 003"}),
]


def self_test():
    bad = 0
    for check, good, stale, expect in FIXTURE_CASES:
        with tempfile.TemporaryDirectory(prefix="docs_check.") as root:
            for rel, text in FIXTURE_SOURCES.items():
                os.makedirs(os.path.join(root, os.path.dirname(rel)), exist_ok=True)
                with open(os.path.join(root, rel), "w") as f:
                    f.write(text)
            with open(os.path.join(root, "README.md"), "w") as f:
                f.write("# Fixture\n\nSee [the pages](docs/good.md).\n")
            with open(os.path.join(root, "docs", "good.md"), "w") as f:
                f.write("# Good\n\n" + good)
            with open(os.path.join(root, "docs", "page.md"), "w") as f:
                f.write("# Page\n\n" + stale)
            res = run_checks(root)[check]
            got_good = {n for w, _, n, _ in res if w != "docs/page.md"}
            got_bad = {n for w, _, n, _ in res if w == "docs/page.md"}
            # the references check also reads the fixture's sources: one is planted
            if check == "references":
                with open(os.path.join(root, "mm", "zone.c"), "w") as f:
                    f.write("/* zones (" + "iss" + "ue 4) */\n")
                res = run_checks(root)[check]
                if not any(w == "mm/zone.c" for w, _, _, _ in res):
                    got_bad.add("<a reference in mm/zone.c not found>")
        why = []
        if got_good:
            why.append("clean text reported: " + ", ".join(sorted(got_good)))
        if got_bad != expect:
            missed, extra = expect - got_bad, got_bad - expect
            if missed:
                why.append("missed: " + ", ".join(sorted(missed)))
            if extra:
                why.append("unexpected: " + ", ".join(sorted(extra)))
        if why:
            bad += 1
            print("not ok - docs/self-test/%s: %s" % (check, "; ".join(why)))
        else:
            print("ok - docs/self-test/%s" % check)
    return bad


def main():
    ap = argparse.ArgumentParser(description="Check docs/*.md and README.md against the tree.")
    ap.add_argument("--self-test", action="store_true",
                    help="run the checks on fixtures that must fail (and clean ones)")
    ap.add_argument("--root", default=os.path.join(HERE, ".."),
                    help="the repository to check (default: this one)")
    a = ap.parse_args()
    if a.self_test:
        sys.exit(1 if self_test() else 0)
    root = os.path.abspath(a.root)
    if not os.path.isfile(os.path.join(root, "Makefile")):
        print("not ok - docs/tree: %s has no Makefile: not the repository" % root)
        sys.exit(1)
    sys.exit(1 if report(run_checks(root)) else 0)


if __name__ == "__main__":
    main()
