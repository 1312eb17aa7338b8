// Log in and sign up. The server sets an HttpOnly session cookie; nothing is stored here.

import { h, icon, uid } from '../dom.js';
import { navigate } from '../router.js';
import { session } from '../session.js';
import { isBusy, setBusy } from '../ui.js';

function field(label, attrs, hint) {
  const id = uid('f');
  const err = h('p', { class: 'field-error', id: uid('err'), hidden: true });
  const hintEl = hint ? h('p', { class: 'field-hint', id: uid('hint') }, hint) : null;
  const input = h('input', { id, ...attrs, 'aria-describedby': [hintEl && hintEl.id, err.id].filter(Boolean).join(' ') });
  const wrap = h('div', { class: 'field' }, h('label', { class: 'field-label', for: id }, label), input, hintEl, err);
  return { wrap, input, err };
}

function safeNext(next) {
  // only a path of this site, never another origin or the auth pages themselves
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/login') || next.startsWith('/register')) return null;
  return next;
}

function authPage(mode, { query }) {
  const register = mode === 'register';
  const next = safeNext(query.get('next'));
  const formErr = h('div', { class: 'form-error', role: 'alert', hidden: true });
  const name = register ? field('Your name', { type: 'text', name: 'name', autocomplete: 'name', required: true, maxlength: '128' }) : null;
  const email = field('Email', { type: 'email', name: 'email', autocomplete: 'email', required: true, spellcheck: 'false', autocapitalize: 'none' });
  const password = field('Password', {
    type: 'password',
    name: 'password',
    autocomplete: register ? 'new-password' : 'current-password',
    required: true,
  }, register ? 'At least 8 characters.' : null);
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, register ? 'Create account' : 'Log in');
  const fields = [name, email, password].filter(Boolean);

  const form = h('form', { class: 'form', novalidate: true },
    fields.map((f) => f.wrap), formErr, submit);

  function showErr(text, f) {
    if (f) {
      f.err.textContent = text;
      f.err.hidden = false;
      f.input.setAttribute('aria-invalid', 'true');
      f.input.focus();
    } else {
      formErr.replaceChildren(icon('alert'), h('span', null, text));
      formErr.hidden = false;
    }
  }

  function clear() {
    formErr.hidden = true;
    for (const f of fields) {
      f.err.hidden = true;
      f.input.removeAttribute('aria-invalid');
    }
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (isBusy(submit)) return;
    clear();
    // the browser's own checks, in words, before a round trip
    for (const f of fields) {
      if (!f.input.value.trim()) {
        showErr(`Enter ${f === name ? 'your name' : f === email ? 'your email' : 'a password'}.`, f);
        return;
      }
    }
    if (!email.input.validity.valid) {
      showErr('Enter an email address like you@example.com.', email);
      return;
    }
    setBusy(submit, true);
    submit.textContent = register ? 'Creating your account…' : 'Logging in…';
    try {
      const me = register
        ? await session.register(email.input.value.trim(), password.input.value, name.input.value.trim())
        : await session.login(email.input.value.trim(), password.input.value);
      if (!me) throw new Error('The session did not start. Are cookies blocked for this site?');
      const home = me.user && me.user.role === 'admin' ? '/admin' : '/';
      navigate(next || home, { replace: true });
    } catch (e) {
      const msg = e.message || String(e);
      const lower = msg.toLowerCase();
      if (e.status === 400 || e.status === 409) {
        if (lower.startsWith('password') || lower.includes('password')) showErr(msg, password);
        else if (lower.startsWith('name')) showErr(msg, name);
        else if (lower.includes('email')) showErr(msg, email);
        else showErr(msg);
      } else if (e.status === 401) {
        showErr('That email and password do not match an account.');
        password.input.select();
        password.input.focus();
      } else {
        showErr(msg);
      }
    } finally {
      setBusy(submit, false);
      submit.textContent = register ? 'Create account' : 'Log in';
    }
  });

  const switchLink = register
    ? h('p', { class: 'auth-switch' }, 'Already have an account? ', h('a', { href: '/login' + (next ? '?next=' + encodeURIComponent(next) : '') }, 'Log in'))
    : h('p', { class: 'auth-switch' }, 'New to Cloudya? ', h('a', { href: '/register' + (next ? '?next=' + encodeURIComponent(next) : '') }, 'Create an account'));

  const el = h('div', { class: 'auth' },
    h('div', { class: 'auth-card card' },
      h('div', { class: 'brand brand-large' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, icon('cloud')), 'Cloudya'),
      h('h1', { class: 'auth-title', tabindex: '-1' }, register ? 'Create your account' : 'Log in'),
      h('p', { class: 'muted auth-sub' }, register
        ? 'Your own space for containers, on the Free plan. No card needed.'
        : 'Manage your containers, their logs and their figures.'),
      query.get('expired') ? h('div', { class: 'callout callout-info', role: 'status' }, 'Your session ended. Log in again to continue.') : null,
      form,
      switchLink));
  setTimeout(() => (register ? name.input : email.input).focus(), 0);
  return { el, title: register ? 'Create an account' : 'Log in', bare: true };
}

export const loginView = (ctx) => authPage('login', ctx);
export const registerView = (ctx) => authPage('register', ctx);
