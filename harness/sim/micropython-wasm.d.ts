// The MicroPython WebAssembly package ships no type declarations; the sim uses this much of it.
declare module '@micropython/micropython-webassembly-pyscript' {
  export interface MicroPythonOptions {
    stdout?: (data: Uint8Array | string) => void;
    stderr?: (data: Uint8Array | string) => void;
    stdin?: () => number | null;
    linebuffer?: boolean;
    heapsize?: number;
    pystack?: number;
    url?: string;
  }
  export interface MicroPython {
    runPython(code: string): unknown;
    runPythonAsync(code: string): Promise<unknown>;
    registerJsModule(name: string, module: object): void;
    replInit(): void;
    replProcessChar(chr: number): number;
    replProcessCharWithAsyncify(chr: number): Promise<number>;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    FS: any;
  }
  export function loadMicroPython(options?: MicroPythonOptions): Promise<MicroPython>;
}
