// A tree row described as plain data, so tree contents are built and tested without the vscode module.

/** One row of a Rigwatch tree. */
export interface TreeNode {
  /** Stable across refreshes (keeps expansion state and avoids flicker). */
  id: string;
  label: string;
  description?: string;
  /** Markdown. */
  tooltip?: string;
  /** Codicon id, optionally with a theme colour id. */
  icon: { id: string; color?: string };
  /** Drives menus (`view/item/context` when-clauses). */
  contextValue?: string;
  /** Command run on click. */
  command?: { command: string; title: string; args?: unknown[] };
  /** What the row refers to, for commands invoked from its context menu. */
  ref?: { connectionId: string; gpuIndex?: number; alertId?: string; pid?: number; runId?: string };
  children?: TreeNode[];
  /** Initial expansion when it has children. */
  expanded?: boolean;
}
