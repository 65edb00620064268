/** A node of a {@link RecencyList}: the list links its members through these two fields. */
export interface RecencyNode<N extends RecencyNode<N>> {
  /** The next less recently used node; maintained by the list. */
  older: N | undefined;
  /** The next more recently used node; maintained by the list. */
  newer: N | undefined;
}

/**
 * The registry's resident entities from least to most recently used: an intrusive doubly-linked list, so
 * that touching, removing and taking the oldest are O(1) and cost no allocation (the links live in the
 * registry's slot of the entity). One list serves both passivation policies: the idle sweep takes from the
 * old end while the oldest is idle, the limit takes the oldest.
 */
export class RecencyList<N extends RecencyNode<N>> {
  #oldest: N | undefined;
  #newest: N | undefined;
  #size = 0;

  /** The least recently used node. */
  get oldest(): N | undefined {
    return this.#oldest;
  }

  /** The most recently used node. */
  get newest(): N | undefined {
    return this.#newest;
  }

  get size(): number {
    return this.#size;
  }

  /** Adds `node` (not in the list) as the most recently used. */
  push(node: N): void {
    node.older = this.#newest;
    node.newer = undefined;
    if (this.#newest === undefined) this.#oldest = node;
    else this.#newest.newer = node;
    this.#newest = node;
    this.#size++;
  }

  /** Moves `node` (in the list) to the most recently used end. */
  touch(node: N): void {
    if (node === this.#newest) return;
    this.#unlink(node);
    this.#size++;
    const newest = this.#newest!;
    node.older = newest;
    node.newer = undefined;
    newest.newer = node;
    this.#newest = node;
  }

  /** Removes `node` (in the list). */
  remove(node: N): void {
    this.#unlink(node);
    node.older = undefined;
    node.newer = undefined;
  }

  /** The nodes from least to most recently used (a copy: the list may change while it is used). */
  toArray(): N[] {
    const nodes: N[] = [];
    for (let node = this.#oldest; node !== undefined; node = node.newer) nodes.push(node);
    return nodes;
  }

  #unlink(node: N): void {
    const { older, newer } = node;
    if (older === undefined) this.#oldest = newer;
    else older.newer = newer;
    if (newer === undefined) this.#newest = older;
    else newer.older = older;
    this.#size--;
  }
}
