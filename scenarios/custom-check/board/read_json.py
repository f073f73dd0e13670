# Custom check board program: read a JSON file from the board's filesystem as the firmware sees it.
# Parameters: _P['path'] (absolute path on the board).
# Answer (through _hil_answer): {'value': the parsed JSON, 'size': bytes} or {'error': why}.
import json


def _read(path):
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        return {'error': 'cannot open %s: %r' % (path, e)}
    try:
        return {'value': json.loads(text), 'size': len(text)}
    except ValueError as e:
        return {'error': '%s is not JSON: %r' % (path, e)}


_hil_answer(_read(_P['path']))
