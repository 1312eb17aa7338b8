// Clients (admins): each tenant's plan, quotas and usage; plan and quotas are editable.

import { api } from '../api.js';
import { openDialog } from '../dialog.js';
import { h, icon, replace, uid } from '../dom.js';
import { cpus, trim } from '../format.js';
import { dataTable } from '../table.js';
import { emptyState, errorBox, isBusy, loading, meter, pageHead, setBusy, timeAgo, toast } from '../ui.js';
import { planName, sizePair } from './containers.js';

export const PLANS = ['free', 'starter', 'pro', 'enterprise'];

function usageCell(used, max, label) {
  return meter(Number(used) || 0, Number(max) || 0, label);
}

export function adminClientsView() {
  const body = h('div', null, loading('Loading clients…'));
  const summary = h('span', { class: 'muted small', role: 'status' });
  const el = h('div', { class: 'page' },
    pageHead('Clients', 'Each client is a tenant: its own containers, network and quotas.', summary),
    h('section', { class: 'card card-flush' }, body));
  let stopped = false;
  let table = null;

  async function load() {
    try {
      const list = await api.adminClients();
      if (stopped) return;
      summary.textContent = `${list.length} ${list.length === 1 ? 'client' : 'clients'}`;
      if (!list.length) {
        table = null;
        replace(body, emptyState('No clients yet', 'A client is created with each account that signs up.'));
        return;
      }
      if (!table) {
        table = dataTable({
          caption: 'Clients',
          rowKey: (c) => c.id,
          rows: [],
          columns: [
            {
              label: 'Client',
              hideLabel: true,
              className: 'col-name',
              cell: (c) => h('div', { class: 'name-cell' },
                h('span', { class: 'strong' }, c.name || c.id),
                h('span', { class: 'muted small mono' }, c.id)),
            },
            { label: 'Plan', cell: (c) => h('span', { class: 'tag tag-plan' }, planName(c.plan)) },
            {
              label: 'Containers',
              className: 'col-meter',
              cell: (c) => usageCell(c.usage && c.usage.containers, c.quota && c.quota.containers,
                `${(c.usage && c.usage.containers) || 0} of ${(c.quota && c.quota.containers) ?? '—'} · ${(c.usage && c.usage.running) || 0} running`),
            },
            {
              label: 'Memory',
              className: 'col-meter',
              cell: (c) => usageCell(c.usage && c.usage.memoryMb, c.quota && c.quota.memoryMb,
                sizePair(c.usage && c.usage.memoryMb, c.quota && c.quota.memoryMb)),
            },
            {
              label: 'CPUs',
              className: 'col-meter',
              cell: (c) => usageCell(c.usage && c.usage.cpus, c.quota && c.quota.cpus,
                `${trim(Number(c.usage && c.usage.cpus) || 0)} of ${cpus(c.quota && c.quota.cpus)}`),
            },
            { label: 'Since', cell: (c) => timeAgo(c.createdAt) },
            {
              label: 'Actions',
              hideLabel: true,
              className: 'col-actions',
              cell: (c) => h('div', { class: 'actions' },
                h('a', { href: '/admin/containers?clientId=' + encodeURIComponent(c.id), class: 'btn btn-small' }, 'Containers'),
                h('button', {
                  type: 'button',
                  class: 'btn btn-small',
                  dataset: { fkey: 'edit' },
                  'aria-label': `Edit plan and quotas of ${c.name || c.id}`,
                  onclick: () => edit(c),
                }, icon('edit'), h('span', null, 'Edit'))),
            },
          ],
        });
        replace(body, table.el);
      }
      table.update(list);
    } catch (e) {
      if (stopped) return;
      table = null;
      replace(body, h('div', { class: 'pad' }, errorBox(e, load)));
    }
  }

  function edit(c) {
    const q = c.quota || {};
    const errs = {};
    const num = (key, label, value, attrs) => {
      const id = uid('q');
      const err = h('p', { class: 'field-error', id: uid('err'), hidden: true });
      const input = h('input', { id, name: key, type: 'number', inputmode: 'decimal', value: value ?? '', 'aria-describedby': err.id, ...attrs });
      errs[key] = { err, input };
      return h('div', { class: 'field' }, h('label', { class: 'field-label', for: id }, label), input, err);
    };
    const nameId = uid('cname');
    const nameErr = h('p', { class: 'field-error', id: uid('err'), hidden: true });
    const cname = h('input', { id: nameId, name: 'name', type: 'text', maxlength: '128', value: c.name || '', 'aria-describedby': nameErr.id });
    const planId = uid('plan');
    const plan = h('select', { id: planId, name: 'plan' }, PLANS.map((p) => h('option', { value: p }, planName(p))));
    if (c.plan && !PLANS.includes(c.plan)) plan.append(h('option', { value: c.plan }, planName(c.plan)));
    plan.value = c.plan || 'free';
    const formErr = h('div', { class: 'form-error', role: 'alert', hidden: true });
    const save = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save');
    const cancel = h('button', { type: 'button', class: 'btn' }, 'Cancel');
    const form = h('form', { class: 'form', novalidate: true },
      h('div', { class: 'field' }, h('label', { class: 'field-label', for: nameId }, 'Name'), cname, nameErr),
      h('div', { class: 'field' }, h('label', { class: 'field-label', for: planId }, 'Plan'), plan),
      h('div', { class: 'field-row' },
        num('containers', 'Containers', q.containers, { min: '0', step: '1' }),
        num('memoryMb', 'Memory (MiB)', q.memoryMb, { min: '0', step: '64' }),
        num('cpus', 'CPUs', q.cpus, { min: '0', step: '0.1' })),
      h('p', { class: 'muted small' }, `In use now: ${(c.usage && c.usage.containers) || 0} containers, ${sizePair(c.usage && c.usage.memoryMb, q.memoryMb)}, ${trim(Number(c.usage && c.usage.cpus) || 0)} CPUs. Lower quotas stop new containers, never running ones.`),
      formErr,
      h('div', { class: 'dialog-actions' }, cancel, save));
    const d = openDialog({ title: `Plan and quotas of ${c.name || c.id}`, content: form });
    cancel.addEventListener('click', () => d.close());
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (isBusy(save)) return;
      formErr.hidden = true;
      for (const { err, input } of Object.values(errs)) { err.hidden = true; input.removeAttribute('aria-invalid'); }
      nameErr.hidden = true;
      cname.removeAttribute('aria-invalid');
      const body = { plan: plan.value, quota: {} };
      if (cname.value.trim() !== (c.name || '')) body.name = cname.value.trim();
      for (const [k, { input, err }] of Object.entries(errs)) {
        const v = Number(input.value);
        if (input.value === '' || !Number.isFinite(v) || v < 0) {
          err.textContent = 'Enter a number, 0 or more.';
          err.hidden = false;
          input.setAttribute('aria-invalid', 'true');
          input.focus();
          return;
        }
        body.quota[k] = k === 'cpus' ? v : Math.round(v);
      }
      setBusy(save, true);
      try {
        await api.patchClient(c.id, body);
        toast(`${body.name || c.name || c.id} updated.`);
        d.close(true);
        load();
      } catch (e) {
        const s = e.message.toLowerCase();
        const k = Object.keys(errs).find((key) => s.includes(key.toLowerCase()));
        if (s.startsWith('name')) {
          nameErr.textContent = e.message;
          nameErr.hidden = false;
          cname.setAttribute('aria-invalid', 'true');
          cname.focus();
        } else if (k) {
          errs[k].err.textContent = e.message;
          errs[k].err.hidden = false;
          errs[k].input.setAttribute('aria-invalid', 'true');
          errs[k].input.focus();
        } else {
          formErr.replaceChildren(icon('alert'), h('span', null, e.message));
          formErr.hidden = false;
        }
      } finally {
        setBusy(save, false);
      }
    });
  }

  load();
  const timer = setInterval(() => { if (document.visibilityState === 'visible' && !document.querySelector('dialog[open]')) load(); }, 10000);
  return {
    el,
    title: 'Clients',
    destroy() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
