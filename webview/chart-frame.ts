// What every dashboard chart shares around its canvas: the caption, the plot box, the "no data" overlay and
// the HTML legend, and the value axis's fixed width that lines up the plots of stacked charts.

import { css, type CSSResult } from 'lit';

/** Width of every chart's value axis, in px, so stacked charts share one time axis. */
export const Y_AXIS_WIDTH_PX = 64;

/** Styles of a chart's figure, caption, plot box, empty overlay and legend. */
export const chartFrameStyles: CSSResult = css`
  :host {
    display: block;
    min-width: 0;
  }
  figure {
    margin: 0;
  }
  figcaption {
    font-weight: 600;
    margin-bottom: 4px;
    display: flex;
    justify-content: space-between;
    gap: 8px;
  }
  .wrap {
    position: relative;
    height: var(--rw-chart-height, 150px);
  }
  canvas {
    display: block;
  }
  .empty {
    position: absolute;
    inset: 0;
    display: flex;
    align-items: center;
    justify-content: center;
    pointer-events: none;
  }
  ul.legend {
    list-style: none;
    margin: 4px 0 0;
    padding: 0;
    display: flex;
    flex-wrap: wrap;
    gap: 2px 12px;
    font-size: 0.9em;
  }
  ul.legend li {
    display: inline-flex;
    align-items: center;
    gap: 4px;
  }
  .sw {
    width: 10px;
    height: 3px;
    display: inline-block;
    border-radius: 1px;
  }
`;
