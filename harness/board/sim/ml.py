# The simulated board's `ml` (loaded by board.py as `_sim_ml`): what OpenMV's ml module does with
# a model's bytes at its address, without running the network. It reproduces the outcomes a real
# cam gives for placement and format, from the model's bytes and where they sit:
# - CPU boards (TensorFlow Lite Micro, lib/tflm/tflm_backend.cc): a model that is not TFLite
#   schema 3 raises ValueError('Unsupported model schema') in ml.Model(); a model that is not
#   4-byte aligned in place and has a per-channel quantized convolution HardFaults inside
#   ml.Model() (its scale vector is read as floats in place; seen on OpenMV's MPS2_AN500 QEMU
#   firmware, issue 14): the fault text is printed and the board is dead until it is reset;
#   on stm32 the firmware's default instead resets the MCU at once, printing nothing (unless
#   pyb.fault_debug(True): then the dump and the dead board); on alif and mimxrt nothing is
#   printed and the board is dead until it is reset (_fault_text).
#   A model aligned to 4 runs whatever the profile's alignment (only an NPU needs more).
# - Ethos-U (the AE3, port alif): a model compiled for Ethos-U (custom op 'ethos-u') that is not
#   aligned as the profile requires raises ValueError('Invoke failed') in predict(); a model
#   not compiled for it runs on the Cortex-M55 as on a CPU board.
# - ST Edge AI (the N6, NBIN models, lib/stai/stai_backend.c): a model that is not an NBIN
#   network, or not aligned as the profile requires, raises RuntimeError('Failed to load network')
#   in ml.Model().
# The outputs are never the network's: predict() fills them with values derived from the
# model's bytes and the input (the same model and input give the same outputs), and the model
# says it is simulated. Parameters come from board.py: the `_P` of the board.
import binascii as _ba
import json as _json
import _simhw as _hw

_STAI_ERR = 'Failed to load network'


def _fault_text(port, addr):
    # What the firmware prints on a HardFault. qemu: micropython ports/qemu/mcu/arm/errorhandler.c
    # (then `for (;;) {}`); stm32: ports/stm32/stm32_it.c HardFault_C_Handler as it prints with
    # pyb.fault_debug(True) (then the fatal-error loop; the default resets the MCU instead).
    # alif (AE3) and mimxrt (RT1062): nothing. OpenMV's firmware for them defines no fault handler
    # of its own (openmv/openmv ports/alif, ports/mimxrt, common/: none), nor does MicroPython's
    # port (micropython ports/alif, ports/mimxrt: none), so the vendor startup's weak default is
    # the handler: alif lib/alif/Device/core/M55_HP/source/startup_M55_HP.c Fault_Handler (HardFault,
    # MemManage, BusFault, UsageFault, SecureFault) is an empty `while(1)`; mimxrt
    # lib/cmsis/src/mimxrt/startup_MIMXRT1062.S HardFault_Handler branches to itself (the other
    # faults to DefaultISR, also a loop). The core spins silently until reset: no text, no
    # reset, the USB link still enumerated but answering nothing. Not settled from sources: the
    # exact micropython commit OpenMV pins (lib/micropython, openmv/micropython branch openmv) was
    # not available; upstream's ports have no handler. No watchdog is started by either main.c.
    if port in ('alif', 'mimxrt'):
        return ''
    # The register values are the simulated board's, not a real dump.
    r = [addr, 0, addr + 2, 0x20000000]
    if port == 'qemu':
        return ('HardFault exception caught:\r\n\r\nCPU registers:\r\n'
                'R0:   %08X R1:   %08X R2:   %08X R3:   %08X\r\n' % tuple(r)
                + 'R4:   00000000 R5:   00000000 R6:   00000000 R7:   00000000\r\n'
                'R8:   00000000 R9:   00000000 R10:  00000000 R11:  00000000\r\n'
                'R12:  00000000 R13:  2001FF80 R14:  00000000 R15:  00000000\r\n'
                'xPSR: 01000000\r\n\r\nDebug registers:\r\n'
                'CFSR: 01000000 HFSR: 40000000 DFSR: 00000000 MMFAR: 00000000 BFAR: 00000000\r\n'
                'CFSR.NOCP:        0 CFSR.UNALIGNED:  1 CFSR.DIVBYZERO: 0\r\n')
    return ('HardFault\r\nR0    %08x\r\nR1    %08x\r\nR2    %08x\r\nR3    %08x\r\n' % tuple(r)
            + 'R12   00000000\r\nSP    2001ff80\r\nLR    00000000\r\nPC    00000000\r\nXPSR  01000000\r\n'
            'HFSR  40000000\r\nCFSR  01000000\r\n')


class _Array:
    # predict()'s output: like the firmware's ulab ndarray of floats (shape, tolist, tobytes).
    def __init__(self, shape, dtype, values):
        self.shape = tuple(shape)
        self.dtype = dtype
        self._v = values

    def __len__(self):
        return self.shape[0] if self.shape else 0

    def tolist(self):
        return list(self._v)

    def flatten(self):
        return _Array((len(self._v),), self.dtype, self._v)

    def __iter__(self):
        return iter(self._v)

    def __repr__(self):
        return 'simulated_array(shape=%r, dtype=%r)' % (self.shape, self.dtype)

    def tobytes(self):
        import struct
        return b''.join(struct.pack('<f', v) for v in self._v)


def _values(seed, n):
    # Deterministic stand-in outputs in [0, 1): a linear congruential sequence from `seed`.
    out = []
    x = seed & 0x7fffffff
    for _ in range(n):
        x = (x * 1103515245 + 12345) & 0x7fffffff
        out.append((x >> 15) / 65536.0)
    return out


def make(P, segs, rom_file_type, open_fn):
    align = P['alignModels']
    npu = P.get('npu')
    port = P['port']
    # A test-only fault of the simulated board (hil sim options): 'stale' makes a model run the
    # previously loaded model's network (OpenMV's stale-cache class, openmv/openmv PR 3276).
    fault = P.get('mlFault')
    # stm32: pyb.fault_debug(True) in force (the firmware's default is off: a HardFault resets).
    fault_debug = P.get('faultDebug')
    last = [None]

    class Model:
        simulated = True

        def __init__(self, path, load_to_fb=False, postprocess=None):
            f = open_fn(path, 'rb')
            try:
                head = f.read(8)
                where = None
                if isinstance(f, rom_file_type):
                    # from /rom the model is used in place (its flash address); otherwise a heap copy
                    self.model_addr = f._faddr
                    self.in_place = True
                    for s in segs:
                        if s.origin <= f._faddr and f._faddr + f._size <= s.origin + s.size:
                            where = (s.index, f._faddr - s.origin, f._size)
                else:
                    self.model_addr = None
                    self.in_place = False
                data = None
                if where is None:
                    f.seek(0)
                    data = f.read()
            finally:
                f.close()
            if len(head) >= 8 and head[4:8] == b'TFL3':
                self.format = 'tflite'
            elif head[:4] == b'NBIN':
                self.format = 'nbin'
            else:
                self.format = None
            addr = self.model_addr
            self._align = align
            self.aligned = addr is None or addr % align == 0
            self.postprocess = postprocess
            if npu == 'stai':
                # ll_aton_reloc_get_info / ll_aton_reloc_install on the bytes in place
                if self.format != 'nbin' or not self.aligned:
                    raise RuntimeError(_STAI_ERR)
                io = {'inputs': [], 'outputs': [], 'version': 0, 'perChannelConv': False, 'ethosU': False}
            else:
                if self.format != 'tflite':
                    raise ValueError('Unsupported model schema')
                if where is not None:
                    io = _json.loads(_hw.model_io_at(*where))
                else:
                    io = _json.loads(_hw.model_io_hex(_ba.hexlify(data).decode()))
                if io['version'] != 3:
                    raise ValueError('Unsupported model schema')
                if addr is not None and addr % 4 != 0 and io['perChannelConv']:
                    if port == 'stm32' and not fault_debug:
                        # stm32's HardFault_C_Handler (micropython ports/stm32/stm32_it.c, the port
                        # OpenMV's cams run): `if (!pyb_hard_fault_debug) powerctrl_mcu_reset();`
                        # before anything is printed. The board reboots silently: the link drops
                        # (USB re-enumerates) and it comes back from a fresh boot.
                        _hw.reset()
                    _hw.crash(_fault_text(port, addr))  # never returns: the board is dead until reset
            self._invoke_fails = npu == 'ethos-u' and io['ethosU'] and not self.aligned
            self._in = io['inputs']
            self._out = io['outputs']
            # the stand-in network: the model's bytes decide it, not where they sit
            size = where[2] if where is not None else len(data)
            self._seed = binascii_crc(head) ^ size
            self._net = self._seed
            if fault == 'stale' and last[0] is not None:
                self._net = last[0]
            last[0] = self._seed
            self.input_shape = [tuple(t['shape']) for t in self._in]
            self.input_dtype = [t['dtype'] for t in self._in]
            self.input_scale = [1.0 for t in self._in]
            self.input_zero_point = [0 for t in self._in]
            self.output_shape = [tuple(t['shape']) for t in self._out]
            self.output_dtype = [t['dtype'] for t in self._out]
            self.output_scale = [1.0 for t in self._out]
            self.output_zero_point = [0 for t in self._out]
            try:
                self.labels = [l.strip() for l in open_fn(path.split('.')[0] + '.txt').read().split('\n') if l.strip()]
            except OSError:
                self.labels = None

        def predict(self, inputs, **kw):
            if not isinstance(inputs, list):
                raise ValueError('Unsupported input type. Expected a list')
            if self._invoke_fails:
                # What the Ethos-U driver does with a misaligned in-place model.
                raise ValueError('Invoke failed')
            if len(inputs) != len(self._in):
                raise ValueError('expected %d inputs, got %d' % (len(self._in), len(inputs)))
            crc = 0
            for item, t in zip(inputs, self._in):
                if callable(item):
                    buf = bytearray(t['bytes'])
                    item(buf, tuple(t['shape']), ord(t['dtype']))
                    crc = _ba.crc32(buf, crc)
                else:
                    raise ValueError('Unsupported input type')
            out = []
            for i, t in enumerate(self._out):
                n = 1
                for d in t['shape']:
                    n *= max(d, 1)
                out.append(_Array(t['shape'], 'f', _values(self._net ^ crc ^ (i * 7919), n)))
            return out

        def __str__(self):
            a = 'heap copy' if self.model_addr is None else '0x%08x' % self.model_addr
            return ('{model_addr: %s, aligned: %s (required %d), format: %s, input_shape: %r, output_shape: %r, '
                    'simulated: placement and format checked, network not run}'
                    % (a, self.aligned, self._align, self.format, self.input_shape, self.output_shape))

        __repr__ = __str__

    class Ml:
        __name__ = 'ml'
        simulated = True

    ml = Ml()
    ml.Model = Model
    return ml


def binascii_crc(b):
    return _ba.crc32(bytes(b)) & 0x7fffffff
