// FST paths ("/a/b c") and the URLs that name them. Every segment is percent-encoded on its
// own, so a name holding '?', '#', '%' or a space reaches the gateway intact, while the '/'
// between segments stays a separator. A directory's URL ends with '/'.

/** The segments of a path: "/a/b/" → ["a", "b"]; "/" → []. */
export function segmentsOf(path) {
  return path.split('/').filter((segment) => segment !== '');
}

/** The canonical form of a path: one leading '/', no trailing or doubled '/'. */
export function normalizePath(path) {
  return `/${segmentsOf(path).join('/')}`;
}

/** `name` inside directory `dir`. */
export function childPath(dir, name) {
  return normalizePath(`${dir}/${name}`);
}

/** The path with each segment percent-encoded: "/a b/c" → "/a%20b/c"; "/" → "/". */
export function encodePath(path) {
  return `/${segmentsOf(path).map(encodeURIComponent).join('/')}`;
}

/** Decodes an encoded path; a malformed escape is kept as typed rather than thrown. */
export function decodePath(encoded) {
  const segments = segmentsOf(encoded).map((segment) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      return segment;
    }
  });
  return `/${segments.join('/')}`;
}

/** The REST URL of a file: "/files/a/b". */
export function fileUrl(path) {
  return `/files${encodePath(path)}`;
}

/** The REST URL of a directory: "/files/a/", and "/files/" for the root. */
export function dirUrl(path) {
  const encoded = encodePath(path);
  return `/files${encoded === '/' ? '/' : `${encoded}/`}`;
}

/** The crumbs of a path, root first: "/a/b" → [{name:"/", path:"/"}, {name:"a", path:"/a"}, …]. */
export function breadcrumbsOf(path) {
  const crumbs = [{ name: '/', path: '/' }];
  let current = '';
  for (const segment of segmentsOf(path)) {
    current = `${current}/${segment}`;
    crumbs.push({ name: segment, path: current });
  }
  return crumbs;
}

/** Why a new entry name is refused, or null when it is fine. */
export function invalidNameReason(name) {
  if (name === '') return 'A name cannot be empty.';
  if (name === '.' || name === '..') return `"${name}" is not a valid name.`;
  if (name.includes('/')) return 'A name cannot contain "/".';
  if (name.includes('\0')) return 'A name cannot contain a NUL character.';
  return null;
}
