// A TreeDataProvider over plain TreeNode data. The model is rebuilt by a function; when only values
// changed, the existing node objects are updated in place and just those rows are refreshed (VS Code
// keys rows by element identity); a structural change refreshes the whole tree. Tooltips are resolved
// lazily on hover, so a 1 Hz refresh carries labels and descriptions only.

import * as vscode from 'vscode';
import type { TreeNode } from './tree-node';
import { plainText } from '../../protocol/plain-text';

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
  /** Number of refresh events sent to VS Code (whole tree or a batch of rows). */
  refreshes = 0;

  readonly onDidChangeTreeData = this.emitter.event;

  constructor(private readonly build: () => TreeNode[]) {}

  /** The nodes currently shown. */
  get nodes(): TreeNode[] {
    return this.roots;
  }

  /** Rebuilds the model and refreshes what changed. */
  update(): void {
    const roots = this.build();
    const shape = structure(roots);
    if (shape !== this.shape) {
      this.shape = shape;
      this.roots = roots;
      this.parents.clear();
      const walk = (n: TreeNode): void => {
        for (const c of n.children ?? []) {
          this.parents.set(c.id, n);
          walk(c);
        }
      };
      roots.forEach(walk);
      this.refreshes++;
      this.emitter.fire(undefined);
      return;
    }
    const changed: TreeNode[] = [];
    const merge = (olds: TreeNode[], news: TreeNode[]): void => {
      olds.forEach((o, i) => {
        const n = news[i];
        if (ownSignature(o) !== ownSignature(n)) {
          const children = o.children;
          Object.assign(o, n, { children });
          changed.push(o);
        } else if (o.tooltip !== n.tooltip) {
          o.tooltip = n.tooltip;
        }
        if (o.children && n.children) merge(o.children, n.children);
      });
    };
    merge(this.roots, roots);
    if (changed.length > 0) {
      this.refreshes++;
      this.emitter.fire(changed);
    }
  }

  getTreeItem(n: TreeNode): vscode.TreeItem {
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

  resolveTreeItem(item: vscode.TreeItem, n: TreeNode): vscode.TreeItem {
    if (n.tooltip) {
      const md = new vscode.MarkdownString(n.tooltip, true);
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
    this.emitter.dispose();
  }
}
