/**
 * The results of a pure function of a text, each computed once: at most `max` texts kept (the
 * oldest dropped first), none longer than `maxText` characters (a program carrying bulk data is
 * computed each time, so the cache stays small). What it holds changes no answer, only how often
 * the function runs: board programs are sent again and again with the same text (the same check
 * on every board of a bench, every probe of a flash), and preparing one is their host-side cost.
 */
export class TextCache<V> {
  private readonly done = new Map<string, V>();
  /** How many results were computed (not answered from the cache). */
  computed = 0;
  constructor(
    private readonly compute: (text: string) => V,
    private readonly max: number,
    private readonly maxText = 64 * 1024,
  ) {}

  get(text: string): V {
    let v = this.done.get(text);
    if (v === undefined) {
      v = this.compute(text);
      this.computed++;
      if (text.length <= this.maxText) {
        if (this.done.size >= this.max) this.done.delete(this.done.keys().next().value!);
        this.done.set(text, v);
      }
    }
    return v;
  }
}
