// "New container": a service from the catalog, a name, and optionally an expiry and
// environment variables. The API checks everything; its sentences are shown next to the
// field they are about. A generated password (postgres) is shown once, here.

import { api } from '../api.js';
import { openDialog } from '../dialog.js';
import { h, icon, replace, uid } from '../dom.js';
import { cpus, mib } from '../format.js';
import { session } from '../session.js';
import { errorBox, isBusy, loading, setBusy, toast } from '../ui.js';

const TTLS = [
  ['', 'Never'],
  ['1h', 'After 1 hour'],
  ['8h', 'After 8 hours'],
  ['24h', 'After 1 day'],
  ['7d', 'After 7 days'],
  ['30d', 'After 30 days'],
];

let catalogCache = null;

/** Opens the dialog; resolves to the created container's answer, or undefined. */
export function openCreate({ preset } = {}) {
  const holder = h('div', null, loading('Loading the catalog…'));
  const d = openDialog({
    title: 'New container',
    description: 'Pick a service and name it. It starts at once and gets its own URL.',
    content: holder,
    wide: true,
  });
  let created;
  const load = () => {
    replace(holder, loading('Loading the catalog…'));
    (catalogCache ? Promise.resolve(catalogCache) : api.catalog())
      .then((list) => {
        catalogCache = list;
        replace(holder, form(list));
      })
      .catch((e) => replace(holder, errorBox(e, load)));
  };

  function form(catalog) {
    if (!catalog.length) {
      return h('p', { class: 'muted' }, 'The catalog is empty: this Cloudya offers no service to create. Ask your administrator.');
    }
    const errs = {};
    const fieldError = (key) => {
      errs[key] = h('p', { class: 'field-error', id: uid('err'), hidden: true });
      return errs[key];
    };
    const me = session.client;

    // service
    const options = catalog.map((s, i) => {
      const id = uid('svc');
      return h('label', { class: 'choice', for: id },
        h('input', {
          type: 'radio',
          name: 'serviceType',
          id,
          value: s.serviceType,
          checked: preset ? s.serviceType === preset : i === 0,
        }),
        h('span', { class: 'choice-body' },
          h('span', { class: 'choice-title' }, s.serviceType),
          h('span', { class: 'choice-desc' }, s.description || s.image),
          h('span', { class: 'choice-meta muted small' }, `${s.image} · port ${s.port} · ${mib(s.memoryMb)} · ${cpus(s.cpus)}`)));
    });
    const svcErr = fieldError('serviceType');
    const svc = h('fieldset', { class: 'field' },
      h('legend', { class: 'field-label' }, 'Service'),
      h('div', { class: 'choices' }, options),
      svcErr);

    // name
    const nameId = uid('name');
    const nameHint = h('p', { class: 'field-hint', id: uid('hint') }, 'Lowercase letters, digits and hyphens, up to 63 characters. Part of the URL.');
    const nameErr = fieldError('name');
    const name = h('input', {
      id: nameId,
      name: 'name',
      type: 'text',
      autocomplete: 'off',
      spellcheck: 'false',
      autocapitalize: 'none',
      maxlength: '63',
      placeholder: 'my-web-server',
      'aria-describedby': `${nameHint.id} ${nameErr.id}`,
    });
    const nameField = h('div', { class: 'field' }, h('label', { class: 'field-label', for: nameId }, 'Name'), name, nameHint, nameErr);

    // ttl
    const ttlId = uid('ttl');
    const ttlErr = fieldError('ttl');
    const ttl = h('select', { id: ttlId, name: 'ttl', 'aria-describedby': ttlErr.id },
      TTLS.map(([v, l]) => h('option', { value: v }, l)));
    const ttlField = h('div', { class: 'field' }, h('label', { class: 'field-label', for: ttlId }, 'Remove automatically'), ttl, ttlErr);

    // env
    const envId = uid('env');
    const envErr = fieldError('env');
    const envHint = h('p', { class: 'field-hint', id: uid('hint') }, 'One KEY=value per line.');
    const env = h('textarea', {
      id: envId, name: 'env', rows: '3', spellcheck: 'false', class: 'mono',
      placeholder: 'APP_MODE=production', 'aria-describedby': `${envHint.id} ${envErr.id}`,
    });
    const advanced = h('details', { class: 'advanced' },
      h('summary', null, 'Environment variables'),
      h('div', { class: 'field' }, h('label', { class: 'field-label', for: envId }, 'Environment'), env, envHint, envErr));

    const formErr = h('div', { class: 'form-error', role: 'alert', hidden: true });
    const quotaNote = me && me.quota
      ? h('p', { class: 'muted small' },
        `Your plan: ${me.usage ? me.usage.containers : 0} of ${me.quota.containers} containers, `
        + `${mib(me.usage ? me.usage.memoryMb : 0)} of ${mib(me.quota.memoryMb)} memory in use.`)
      : null;
    const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, icon('plus'), h('span', null, 'Create container'));
    const cancel = h('button', { type: 'button', class: 'btn', onclick: () => d.close() }, 'Cancel');

    const f = h('form', { class: 'form', novalidate: true },
      svc, nameField, ttlField, advanced, formErr, quotaNote,
      h('div', { class: 'dialog-actions' }, cancel, submit));

    const fieldFor = { name, serviceType: svc, ttl, env };

    function clearErrors() {
      formErr.hidden = true;
      formErr.replaceChildren();
      for (const [k, el] of Object.entries(errs)) {
        el.hidden = true;
        el.textContent = '';
        const input = fieldFor[k];
        if (input) input.removeAttribute('aria-invalid');
      }
    }

    function showError(key, text) {
      if (key && errs[key]) {
        errs[key].textContent = text;
        errs[key].hidden = false;
        const input = fieldFor[key];
        if (input) {
          input.setAttribute('aria-invalid', 'true');
          if (key === 'env') advanced.open = true;
          if (input.focus) input.focus();
        }
      } else {
        formErr.replaceChildren(icon('alert'), h('span', null, text));
        formErr.hidden = false;
      }
    }

    f.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (isBusy(submit)) return;
      clearErrors();
      const body = { serviceType: (f.querySelector('input[name=serviceType]:checked') || {}).value, name: name.value.trim() };
      if (ttl.value) body.ttl = ttl.value;
      if (env.value.trim()) {
        const vars = {};
        for (const [i, raw] of env.value.split('\n').entries()) {
          const line = raw.trim();
          if (!line || line.startsWith('#')) continue;
          const eq = line.indexOf('=');
          if (eq <= 0) {
            showError('env', `Line ${i + 1} is not KEY=value.`);
            return;
          }
          vars[line.slice(0, eq).trim()] = line.slice(eq + 1);
        }
        body.env = vars;
      }
      setBusy(submit, true);
      try {
        const r = await api.create(body);
        created = r;
        session.refresh();
        if (r.password) {
          replace(holder, passwordPanel(r, () => d.close(r)));
        } else {
          toast(`${r.name} is ${r.status || 'running'}.`);
          d.close(r);
        }
      } catch (e) {
        if (e.status === 409) showError('name', e.message);
        else if (e.status === 400) showError(fieldOf(e.message), e.message);
        else showError(null, e.message);
      } finally {
        setBusy(submit, false);
      }
    });
    setTimeout(() => name.focus(), 0);
    return f;
  }

  load();
  return d.closed.then((v) => v || created);
}

/** Which field an API sentence is about ("name must be…", "env: …", "ttl …"). */
export function fieldOf(sentence) {
  const s = String(sentence || '').toLowerCase();
  const first = s.split(/[\s:.,'"`]+/).filter(Boolean)[0] || '';
  if (first === 'name') return 'name';
  if (first === 'servicetype' || first === 'service' || s.includes('servicetype') || s.includes('service type')) return 'serviceType';
  if (first === 'ttl' || s.includes('ttl')) return 'ttl';
  if (first === 'env' || first.startsWith('env') || s.includes('environment')) return 'env';
  if (s.includes('name')) return 'name';
  return null;
}

function passwordPanel(r, done) {
  const id = uid('pw');
  const input = h('input', { id, type: 'text', readonly: true, value: r.password, class: 'mono', spellcheck: 'false' });
  const copyBtn = h('button', { type: 'button', class: 'btn' }, icon('copy'), h('span', null, 'Copy'));
  copyBtn.addEventListener('click', async () => {
    input.select();
    try {
      await navigator.clipboard.writeText(r.password);
      toast('Password copied.');
    } catch {
      const ok = document.execCommand && document.execCommand('copy');
      toast(ok ? 'Password copied.' : 'Select the password and copy it.', ok ? 'ok' : 'info');
    }
  });
  const doneBtn = h('button', { type: 'button', class: 'btn btn-primary', onclick: done }, 'I saved it');
  setTimeout(() => input.select(), 0);
  return h('div', { class: 'form' },
    h('div', { class: 'callout callout-warn', role: 'alert' }, icon('alert'),
      h('div', { class: 'callout-text' },
        h('p', null, h('strong', null, `${r.name} is running.`), ' Its generated password is shown this once: Cloudya does not keep it.'))),
    h('div', { class: 'field' }, h('label', { class: 'field-label', for: id }, 'Password'),
      h('div', { class: 'input-row' }, input, copyBtn)),
    h('div', { class: 'dialog-actions' }, doneBtn));
}
