// The sign-in form: shown at start when the gateway answers 401, again whenever a later call
// does, and on demand when an anonymous visitor wants to use a key.
import { login } from './session.js';
import { byId, setText, show } from './dom.js';

/**
 * Wires the form in index.html. `onSignedIn()` runs after a successful sign-in, `onCancel()`
 * when the visitor closes a form opened with `cancellable`.
 */
export function createLoginForm({ onSignedIn, onCancel }) {
  const section = byId('login');
  const form = byId('login-form');
  const accessKeyInput = byId('login-access-key');
  const secretInput = byId('login-secret');
  const errorText = byId('login-error');
  const submit = byId('login-submit');
  const cancel = byId('login-cancel');

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void signIn();
  });
  cancel.addEventListener('click', () => {
    close();
    onCancel();
  });

  async function signIn() {
    const accessKey = accessKeyInput.value.trim();
    const secretKey = secretInput.value;
    if (accessKey === '' || secretKey === '') {
      setText(errorText, 'Enter both the access key ID and the secret key.');
      (accessKey === '' ? accessKeyInput : secretInput).focus();
      return;
    }
    submit.disabled = true;
    setText(errorText, '');
    try {
      await login(accessKey, secretKey);
      secretInput.value = '';
      close();
      onSignedIn();
    } catch (error) {
      setText(errorText, error.status === 401 ? `Sign-in refused: ${error.message}` : error.message);
      secretInput.select();
    } finally {
      submit.disabled = false;
    }
  }

  /** Shows the form; `message` explains why (a session that ended), `cancellable` adds Cancel. */
  function open({ message = '', cancellable = false } = {}) {
    setText(errorText, message);
    show(cancel, cancellable);
    show(section, true);
    (accessKeyInput.value === '' ? accessKeyInput : secretInput).focus();
  }

  function close() {
    show(section, false);
  }

  return { open, close };
}
