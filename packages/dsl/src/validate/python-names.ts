/**
 * Python's naming rules, written once: the DSL's validation rules and
 * codegen's lowering (packages/codegen/src/lower/names.ts) both use these, so
 * a name one side accepts the other never rejects.
 */

/** Hard and soft keywords (3.10..3.14) and `_`: none can be a package, class or attribute name. */
export const PYTHON_KEYWORDS: ReadonlySet<string> = new Set(
  ('False None True and as assert async await break class continue def del elif else except finally for from ' +
    'global if import in is lambda nonlocal not or pass raise return try while with yield match case type _').split(' '),
);

/**
 * sys.stdlib_module_names of CPython 3.11 plus the modules 3.12..3.14 add
 * (annotationlib, compression): a package of one of these names would
 * shadow (or be shadowed by) the standard library.
 */
export const STDLIB_MODULES: ReadonlySet<string> = new Set(
  `
__future__ _abc _aix_support _ast _asyncio _bisect _blake2 _bootsubprocess _bz2 _codecs _codecs_cn _codecs_hk
_codecs_iso2022 _codecs_jp _codecs_kr _codecs_tw _collections _collections_abc _compat_pickle _compression
_contextvars _crypt _csv _ctypes _curses _curses_panel _datetime _dbm _decimal _elementtree _frozen_importlib
_frozen_importlib_external _functools _gdbm _hashlib _heapq _imp _io _json _locale _lsprof _lzma _markupbase
_md5 _msi _multibytecodec _multiprocessing _opcode _operator _osx_support _overlapped _pickle _posixshmem
_posixsubprocess _py_abc _pydecimal _pyio _queue _random _scproxy _sha1 _sha256 _sha3 _sha512 _signal
_sitebuiltins _socket _sqlite3 _sre _ssl _stat _statistics _string _strptime _struct _symtable _thread
_threading_local _tkinter _tokenize _tracemalloc _typing _uuid _warnings _weakref _weakrefset _winapi
_zoneinfo abc aifc annotationlib antigravity argparse array ast asynchat asyncio asyncore atexit audioop
base64 bdb binascii bisect builtins bz2 cProfile calendar cgi cgitb chunk cmath cmd code codecs codeop
collections colorsys compileall compression concurrent configparser contextlib contextvars copy copyreg crypt
csv ctypes curses dataclasses datetime dbm decimal difflib dis distutils doctest email encodings ensurepip
enum errno faulthandler fcntl filecmp fileinput fnmatch fractions ftplib functools gc genericpath getopt
getpass gettext glob graphlib grp gzip hashlib heapq hmac html http idlelib imaplib imghdr imp importlib
inspect io ipaddress itertools json keyword lib2to3 linecache locale logging lzma mailbox mailcap marshal math
mimetypes mmap modulefinder msilib msvcrt multiprocessing netrc nis nntplib nt ntpath nturl2path numbers
opcode operator optparse os ossaudiodev pathlib pdb pickle pickletools pipes pkgutil platform plistlib poplib
posix posixpath pprint profile pstats pty pwd py_compile pyclbr pydoc pydoc_data pyexpat queue quopri random
re readline reprlib resource rlcompleter runpy sched secrets select selectors shelve shlex shutil signal site
smtpd smtplib sndhdr socket socketserver spwd sqlite3 sre_compile sre_constants sre_parse ssl stat statistics
string stringprep struct subprocess sunau symtable sys sysconfig syslog tabnanny tarfile telnetlib tempfile
termios textwrap this threading time timeit tkinter token tokenize tomllib trace traceback tracemalloc tty
turtle turtledemo types typing unicodedata unittest urllib uu uuid venv warnings wave weakref webbrowser
winreg winsound wsgiref xdrlib xml xmlrpc zipapp zipfile zipimport zlib zoneinfo
`.trim().split(/\s+/),
);

/**
 * Top-level modules a generated package's `pip install` brings in (torch,
 * triton, numpy and what they pull in), as listed in a fresh venv's
 * site-packages: a package named like one of them would replace it.
 */
export const DEPENDENCY_MODULES: ReadonlySet<string> = new Set([
  'torch', 'triton', 'numpy', 'functorch', 'torchgen', 'filelock', 'fsspec', 'jinja2', 'markupsafe', 'mpmath',
  'networkx', 'sympy', 'isympy', 'typing_extensions', 'setuptools', 'pkg_resources', '_distutils_hack', 'pip',
]);

/** A Python identifier (ASCII): letters, digits, underscores, no leading digit. */
export const PY_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** A package name: a lower_snake identifier. */
export const PY_PACKAGE_NAME = /^[a-z_][a-z0-9_]*$/;

/** Why `name` cannot be a generated package's import name, or null when it can. */
export function packageNameProblem(name: string): string | null {
  if (!PY_PACKAGE_NAME.test(name)) return 'not a lower_snake Python identifier';
  if (PYTHON_KEYWORDS.has(name)) return 'a Python keyword';
  if (STDLIB_MODULES.has(name)) return `the name of a standard-library module (import ${name} would pick one of the two)`;
  if (DEPENDENCY_MODULES.has(name)) {
    return `the name of a module the package depends on (installing it would replace the real ${name})`;
  }
  return null;
}

/** A usable package name near `name`: "torch" -> "torch_block", "Mamba-2" -> "mamba_2". */
export function suggestPackageName(name: string): string {
  let s = name.toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^(\d)/, 'm_$1');
  if (s === '' || s === '_') s = 'mamba2_block';
  for (const candidate of [s, `${s}_block`, `${s}_mamba2`, `mamba2_${s}`]) {
    if (packageNameProblem(candidate) === null) return candidate;
  }
  return 'mamba2_block';
}

/** Why `name` cannot be a generated class name, or null when it can. */
export function classNameProblem(name: string): string | null {
  if (!PY_IDENTIFIER.test(name)) return 'not a Python identifier';
  if (PYTHON_KEYWORDS.has(name)) return 'a Python keyword';
  return null;
}
