# hil's imports check, first part: run right after a soft reset, so the module table this program
# starts with is the one a freshly booted board has. Every module is imported in that table:
# before each import, sys.modules and sys.path are put back to it (modules loaded since are
# dropped, the original objects restored), and the program checks that they are.
# Folders without __init__ are namespace packages, as MicroPython imports them
# (py/builtinimport.c: a directory with no __init__.py is a package with nothing to load).
# Every .py the check does not import (main.py, boot.py, names that are no module name) is
# compiled with the board's own compiler, without running it.
# The modules those scripts import at their top level are imported the same way (wherever the
# board finds them: built in, frozen, /flash or /rom), so a main.py that would stop at an import
# on this board is found without running it.
# Parameters: _P['modules'] (import names), _P['compile'] (paths under _P['root']),
# _P['script_imports'] ([[script path, line, module name], ...]).
# Answer: {'path': sys.path, 'clean': bool, 'mods': [[name, __file__, traceback], ...],
#          'scripts': [[script path, line, module name, traceback or None], ...],
#          'compiled': [[path, traceback or None], ...] (None for all when the board has no compile()),
#          'mpy': sys.implementation._mpy or None}
# Any BaseException (SystemExit from sys.exit(), KeyboardInterrupt raised by the code) is a
# finding about that module, never the end of the program.
import sys
try:
    import io as _io
except ImportError:
    _io = None


def _tb(e):
    if _io is not None and hasattr(sys, 'print_exception'):
        s = _io.StringIO()
        sys.print_exception(e, s)
        return s.getvalue()
    return repr(e)


_boot_mods = dict(sys.modules)
_boot_path = list(sys.path)
_path_obj = sys.path


def _restore():
    for k in list(sys.modules):
        if k not in _boot_mods:
            del sys.modules[k]
    for k in _boot_mods:
        if sys.modules.get(k) is not _boot_mods[k]:
            sys.modules[k] = _boot_mods[k]
    while len(_path_obj):
        _path_obj.pop()
    for p in _boot_path:
        _path_obj.append(p)


def _is_clean():
    if sys.path is not _path_obj or list(sys.path) != _boot_path or len(sys.modules) != len(_boot_mods):
        return False
    for k in _boot_mods:
        if sys.modules.get(k) is not _boot_mods[k]:
            return False
    return True


def _mod(name):
    top = __import__(name)
    mod = sys.modules.get(name)
    if mod is None:
        mod = top
        for part in name.split('.')[1:]:
            mod = getattr(mod, part)
    return mod


def _imports(mods, root, paths, script_imports):
    r = {'path': list(sys.path), 'clean': True, 'mods': [], 'compiled': None, 'mpy': getattr(sys.implementation, '_mpy', None)}
    for m in mods:
        _restore()
        if not _is_clean():
            r['clean'] = False
        try:
            mod = _mod(m)
            f = getattr(mod, '__file__', None)
            r['mods'].append([m, f if isinstance(f, str) else None, None])
        except BaseException as e:
            r['mods'].append([m, None, _tb(e)])
    r['scripts'] = []
    for s, line, m in script_imports:
        _restore()
        try:
            __import__(m)
            r['scripts'].append([s, line, m, None])
        except BaseException as e:
            r['scripts'].append([s, line, m, _tb(e)])
    _restore()
    try:
        comp = compile
    except NameError:
        comp = None
    if comp is not None:
        r['compiled'] = []
        for p in paths:
            full = root + '/' + p
            try:
                with open(full) as f:
                    src = f.read()
                comp(src, full, 'exec')
                r['compiled'].append([p, None])
            except BaseException as e:
                r['compiled'].append([p, _tb(e)])
            src = None
    return r


_hil_answer(_imports(_P['modules'], _P['root'], _P['compile'], _P['script_imports']))
