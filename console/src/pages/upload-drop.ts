/**
 * Files from a drop, folders walked with the File System entries API (webkitGetAsEntry), each
 * with its path inside the dropped folder so the structure is kept in the keys.
 */
export interface PickedFile {
  file: File;
  path: string;
}

/** The path of a picked file: its folder-relative path from a folder input, else its name. */
export function relativePath(file: File): string {
  return (file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name;
}

function fileOf(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

/** readEntries answers in batches (about 100 at a time in Chromium): read until it returns none. */
async function childrenOf(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const all: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}

async function walk(entry: FileSystemEntry, out: PickedFile[]): Promise<void> {
  if (entry.isFile) {
    out.push({ file: await fileOf(entry as FileSystemFileEntry), path: entry.fullPath.replace(/^\//, '') });
  } else if (entry.isDirectory) {
    for (const child of await childrenOf(entry as FileSystemDirectoryEntry)) await walk(child, out);
  }
}

export async function filesFromDrop(data: DataTransfer): Promise<PickedFile[]> {
  const entries = [...data.items].map((item) => (item.kind === 'file' ? item.webkitGetAsEntry() : null));
  if (entries.some((e) => e !== null)) {
    const out: PickedFile[] = [];
    for (const entry of entries) if (entry) await walk(entry, out);
    return out;
  }
  return [...data.files].map((file) => ({ file, path: file.name }));
}
