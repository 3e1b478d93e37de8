// A TreeDataProvider over plain TreeNode data. The model is rebuilt by a function; when only values
// changed, the existing node objects are updated in place and just those rows are refreshed (VS Code
// keys rows by element identity), paced by RowRefresher so that a live row's tooltip can open and stay
// open; a structural change refreshes the whole tree. Tooltips are resolved lazily on hover, so a 1 Hz
// refresh carries labels and descriptions only.

import * as vscode from 'vscode';
import type { TreeNode } from './tree-node';
import { plainText } from '../../protocol/plain-text';
import { refreshPolicy, RowRefresher, type Clock, type TreeRefreshPolicy } from './row-refresh';

/** Longest tree label or description, in characters. */
const TREE_LABEL_MAX_CHARS = 200;

function structure(nodes: TreeNode[]): string {
  return nodes.map((n) => `${n.id}(${n.children ? structure(n.children) : ''})`).join(',');
}

/**
 * What a row shows without hovering. The tooltip is left out on purpose: refreshing a row closes its
 * open hover, so a tooltip that changes every tick (live numbers) would never stay up. It is updated
 * in place instead and read when the hover opens (resolveTreeItem).
 */
function ownSignature(n: TreeNode): string {
  return JSON.stringify([n.label, n.description, n.icon, n.contextValue, n.command, n.ref]);
}

/** Renders TreeNodes. */
export class NodeTreeProvider implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<TreeNode | TreeNode[] | undefined>();
  private roots: TreeNode[] = [];
  private shape = '';
  private readonly parents = new Map<string, TreeNode>();
  private readonly byId = new Map<string, TreeNode>();
  private readonly rows: RowRefresher<TreeNode>;
  /** Number of refresh events sent to VS Code (whole tree or a batch of rows). */
  refreshes = 0;

  readonly onDidChangeTreeData = this.emitter.event;

  constructor(
    private readonly build: () => TreeNode[],
    policy: TreeRefreshPolicy = refreshPolicy(),
    clock?: Clock,
  ) {
    this.rows = new RowRefresher(
      () => this.byId,
      ownSignature,
      (rows) => {
        this.refreshes++;
        this.emitter.fire(rows);
      },
      policy,
      clock,
    );
  }

  /** The nodes currently shown. */
  get nodes(): TreeNode[] {
    return this.roots;
  }

  /** Changes the refresh policy (the user changed `workbench.hover.delay`). */
  setPolicy(policy: TreeRefreshPolicy): void {
    this.rows.policy = policy;
  }

  /** Whether the row's text is held by its open tooltip. */
  isHeld(id: string): boolean {
    return this.rows.isHeld(id);
  }

  /** Rebuilds the model and refreshes what changed. */
  update(): void {
    const roots = this.build();
    const shape = structure(roots);
    if (shape !== this.shape) {
      this.shape = shape;
      this.roots = roots;
      this.parents.clear();
      this.byId.clear();
      const walk = (n: TreeNode): void => {
        this.byId.set(n.id, n);
        for (const c of n.children ?? []) {
          this.parents.set(c.id, n);
          walk(c);
        }
      };
      roots.forEach(walk);
      this.rows.reset();
      this.refreshes++;
      this.emitter.fire(undefined);
      return;
    }
    const merge = (olds: TreeNode[], news: TreeNode[]): void => {
      olds.forEach((o, i) => {
        const n = news[i] as TreeNode;
        const children = o.children;
        Object.assign(o, n, { children });
        if (o.children && n.children) merge(o.children, n.children);
      });
    };
    merge(this.roots, roots);
    this.rows.flush();
  }

  getTreeItem(n: TreeNode): vscode.TreeItem {
    this.rows.rendered(n);
    const state =
      n.children && n.children.length > 0
        ? n.expanded
          ? vscode.TreeItemCollapsibleState.Expanded
          : vscode.TreeItemCollapsibleState.Collapsed
        : vscode.TreeItemCollapsibleState.None;
    // Labels and descriptions quote monitored text (process, container, model names): one inert line each.
    const item = new vscode.TreeItem(plainText(n.label, TREE_LABEL_MAX_CHARS), state);
    item.id = n.id;
    item.description = n.description === undefined ? undefined : plainText(n.description, TREE_LABEL_MAX_CHARS);
    item.iconPath = new vscode.ThemeIcon(n.icon.id, n.icon.color ? new vscode.ThemeColor(n.icon.color) : undefined);
    item.contextValue = n.contextValue;
    if (n.command) item.command = { command: n.command.command, title: n.command.title, arguments: n.command.args };
    return item;
  }

  /** VS Code calls this when the row's hover opens: the tooltip that goes with the row's text; the row holds still. */
  resolveTreeItem(item: vscode.TreeItem, n: TreeNode): vscode.TreeItem {
    const tooltip = this.rows.hoverOpened(n);
    if (tooltip) {
      const md = new vscode.MarkdownString(tooltip, true);
      md.isTrusted = false;
      item.tooltip = md;
    }
    return item;
  }

  getChildren(n?: TreeNode): TreeNode[] {
    return n ? (n.children ?? []) : this.roots;
  }

  getParent(n: TreeNode): TreeNode | undefined {
    return this.parents.get(n.id);
  }

  dispose(): void {
    this.rows.dispose();
    this.emitter.dispose();
  }
}
