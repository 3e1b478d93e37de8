// A TreeDataProvider over plain TreeNode data. The model is rebuilt by a function; the tree is told to
// refresh only when the rebuilt model differs from what it shows (cheap at 1 Hz, no flicker).

import * as vscode from 'vscode';
import type { TreeNode } from './tree-node';

/** Renders TreeNodes. */
export class NodeTreeProvider implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<TreeNode | undefined>();
  private roots: TreeNode[] = [];
  private signature = '';
  private readonly parents = new Map<string, TreeNode>();
  /** Number of refreshes actually sent to VS Code. */
  refreshes = 0;

  readonly onDidChangeTreeData = this.emitter.event;

  constructor(private readonly build: () => TreeNode[]) {}

  /** The nodes currently shown. */
  get nodes(): TreeNode[] {
    return this.roots;
  }

  /** Rebuilds the model and refreshes the view when it changed. */
  update(): void {
    const roots = this.build();
    const sig = JSON.stringify(roots);
    if (sig === this.signature) return;
    this.signature = sig;
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
  }

  getTreeItem(n: TreeNode): vscode.TreeItem {
    const state = n.children && n.children.length > 0 ? (n.expanded ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed) : vscode.TreeItemCollapsibleState.None;
    const item = new vscode.TreeItem(n.label, state);
    item.id = n.id;
    item.description = n.description;
    if (n.tooltip) {
      const md = new vscode.MarkdownString(n.tooltip, true);
      md.isTrusted = false;
      item.tooltip = md;
    }
    item.iconPath = new vscode.ThemeIcon(n.icon.id, n.icon.color ? new vscode.ThemeColor(n.icon.color) : undefined);
    item.contextValue = n.contextValue;
    if (n.command) item.command = { command: n.command.command, title: n.command.title, arguments: n.command.args };
    return item;
  }

  getChildren(n?: TreeNode): TreeNode[] {
    return n ? n.children ?? [] : this.roots;
  }

  getParent(n: TreeNode): TreeNode | undefined {
    return this.parents.get(n.id);
  }

  dispose(): void {
    this.emitter.dispose();
  }
}
