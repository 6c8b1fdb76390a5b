/** An asset's identity in an account (see identityOf). */
export type Identity = { readonly resourceType: string; readonly type: string; readonly publicId: string };

/**
 * A map keyed by asset identity, one inner map per resource type and delivery type keyed by
 * public_id. The same keys as a map of identityOf strings, at less than half the cost
 * per entry: identityOf builds a concatenated string per asset, kept whole as a key (a
 * concatenation node and its flattened copy), where this keeps the public_id string as parsed.
 */
export class IdentityMap<V> {
  private readonly byType = new Map<string, Map<string, V>>();

  get(a: Identity): V | undefined {
    return this.byType.get(`${a.resourceType}\u0000${a.type}`)?.get(a.publicId);
  }

  has(a: Identity): boolean {
    return this.byType.get(`${a.resourceType}\u0000${a.type}`)?.has(a.publicId) ?? false;
  }

  set(a: Identity, value: V): void {
    const t = `${a.resourceType}\u0000${a.type}`;
    let inner = this.byType.get(t);
    if (!inner) this.byType.set(t, (inner = new Map()));
    inner.set(a.publicId, value);
  }
}
