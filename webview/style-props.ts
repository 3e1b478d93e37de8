// A CSP-safe replacement for lit's styleMap: styleMap writes a `style` attribute on first render,
// which a strict `style-src` (no 'unsafe-inline') blocks; this sets properties through the CSSOM,
// which CSP allows. Use it as a property binding: `.style=${styleProps({ width: '40%' })}`.

import { noChange } from 'lit';
import { Directive, directive, PartType, type PartInfo, type PropertyPart } from 'lit/directive.js';

/** Style properties by CSS name (`background-color`, `--custom`). */
export type StyleProps = Record<string, string | undefined>;

class StylePropsDirective extends Directive {
  private prev: StyleProps = {};

  constructor(info: PartInfo) {
    super(info);
    if (info.type !== PartType.PROPERTY || info.name !== 'style') {
      throw new Error('styleProps must be bound to the .style property');
    }
  }

  render(_props: StyleProps): typeof noChange {
    return noChange;
  }

  override update(part: PropertyPart, [props]: [StyleProps]): typeof noChange {
    const style = (part.element as HTMLElement).style;
    for (const k of Object.keys(this.prev)) {
      if (props[k] === undefined) style.removeProperty(k);
    }
    for (const [k, v] of Object.entries(props)) {
      if (v !== undefined && this.prev[k] !== v) style.setProperty(k, v);
    }
    this.prev = { ...props };
    return noChange;
  }
}

/** Sets inline style properties without a `style` attribute (strict-CSP safe). */
export const styleProps = directive(StylePropsDirective);
