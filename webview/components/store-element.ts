// Base class for components that render from the dashboard store: re-render on store changes.

import { LitElement } from 'lit';
import { property } from 'lit/decorators.js';
import type { DashboardStore } from '../state';

/** A Lit element bound to the store; re-renders (batched) when the store changes. */
export class StoreElement extends LitElement {
  @property({ attribute: false }) store!: DashboardStore;
  private unsubscribe: (() => void) | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    this.subscribe();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  protected override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('store')) this.subscribe();
  }

  private subscribe(): void {
    this.unsubscribe?.();
    this.unsubscribe = this.store?.onChange(() => this.requestUpdate());
  }
}
