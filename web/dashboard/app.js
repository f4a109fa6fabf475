// Start-up and the page's three modes: booting (asking who we are), signing in, and showing a
// view. The URL hash picks the view; any 401 from the gateway returns to the sign-in form, and
// the same hash is shown again once signed in.
/* global document, window */
import { onUnauthorized } from './api.js';
import { whoami, logout } from './session.js';
import { createLoginForm } from './login-form.js';
import { createOverview } from './overview.js';
import { createFileBrowser } from './files.js';
import { filesHash, followRoute, parseHash } from './router.js';
import { byId, h, setAttr, setText, show } from './dom.js';
import { sentence } from './format.js';

const BOOT_RETRY_MS = 3_000;

const bootMessage = byId('boot-message');
const tabs = byId('tabs');
const identityBox = byId('identity');
const views = { overview: createOverview(), files: createFileBrowser() };
const tabLinks = { overview: byId('tab-overview'), files: byId('tab-files') };

let mode = 'boot'; // 'boot' (asking who we are), 'login' (the form is shown) or 'app'
let identity = null; // the last answer of /api/whoami; kept while the form is open, for Cancel
let routeFollowed = false;

const loginForm = createLoginForm({
  onSignedIn: () => void boot(),
  onCancel: () => enterApp(identity),
});

/** Shows the view a route names and stops the others (only the overview polls). */
function showRoute(route) {
  if (mode !== 'app') return;
  for (const [name, view] of Object.entries(views)) {
    const active = name === route.view;
    show(view.section, active);
    setAttr(tabLinks[name], 'aria-current', active ? 'page' : null);
    if (active) view.show(route);
    else view.hide();
  }
  if (route.view === 'files') {
    // The Files tab returns to the folder last shown rather than to the root.
    tabLinks.files.href = filesHash(route.path);
    document.title = `${route.path} · Files · FST`;
  } else {
    document.title = 'Overview · FST';
  }
}

function hideViews() {
  for (const view of Object.values(views)) {
    view.hide();
    show(view.section, false);
  }
}

function renderIdentity(who) {
  const key = byId('identity-key');
  const suffix = who.readOnly ? ' (read-only)' : '';
  if (who.anonymous || !who.accessKey) key.replaceChildren(`Anonymous${suffix}`);
  else key.replaceChildren(h('span', { class: 'identity-prefix', text: 'Signed in as ' }), `${who.accessKey}${suffix}`);
  show(byId('sign-out'), !who.anonymous);
  show(byId('sign-in'), Boolean(who.anonymous));
  show(identityBox, true);
}

function enterApp(who) {
  mode = 'app';
  identity = who;
  show(bootMessage, false);
  renderIdentity(who);
  views.files.setReadOnly(Boolean(who.readOnly));
  show(tabs, true);
  if (routeFollowed) showRoute(parseHash(window.location.hash));
  else {
    routeFollowed = true;
    followRoute(showRoute);
  }
}

/** Leaves the app for the sign-in form. */
function askToSignIn({ message = '', cancellable = false } = {}) {
  mode = 'login';
  document.title = 'Sign in · FST';
  hideViews();
  show(tabs, false);
  show(identityBox, false);
  show(bootMessage, false);
  loginForm.open({ message, cancellable });
}

/** Asks the gateway who we are, then shows the app or the sign-in form. */
async function boot() {
  mode = 'boot';
  show(bootMessage, true);
  setText(bootMessage, 'Loading…');
  try {
    const who = await whoami();
    if (who === null) {
      identity = null;
      askToSignIn();
    } else {
      enterApp(who);
    }
  } catch (error) {
    setText(bootMessage, `Cannot reach the gateway: ${sentence(error.message)} Retrying…`);
    window.setTimeout(() => void boot(), BOOT_RETRY_MS);
  }
}

async function signOut() {
  hideViews();
  show(tabs, false);
  show(identityBox, false);
  try {
    await logout();
  } catch {
    // Nothing to add: boot() asks again, and shows what the gateway answers now.
  }
  void boot();
}

onUnauthorized(() => {
  if (mode === 'app') askToSignIn({ message: 'Your session has ended. Sign in again.' });
});
byId('sign-out').addEventListener('click', () => void signOut());
byId('sign-in').addEventListener('click', () => askToSignIn({ cancellable: true }));

void boot();
