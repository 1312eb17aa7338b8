// Users and roles (admins): promote or demote, disable or enable an account.

import { api } from '../api.js';
import { confirmDialog } from '../dialog.js';
import { h, replace, uid } from '../dom.js';
import { session } from '../session.js';
import { dataTable } from '../table.js';
import { busy, emptyState, errorBox, loading, pageHead, timeAgo, toast } from '../ui.js';

export function adminUsersView() {
  const body = h('div', null, loading('Loading users…'));
  const summary = h('span', { class: 'muted small', role: 'status' });
  const searchId = uid('s');
  const search = h('input', { id: searchId, type: 'search', placeholder: 'Name or email', autocomplete: 'off' });
  const roleSel = h('select', { id: uid('f') }, h('option', { value: '' }, 'Every role'),
    h('option', { value: 'admin' }, 'Admins'), h('option', { value: 'client' }, 'Clients'));
  const filters = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter users' },
    h('div', { class: 'filter filter-grow' }, h('label', { for: searchId }, 'Search'), search),
    h('div', { class: 'filter' }, h('label', { for: roleSel.id }, 'Role'), roleSel),
    h('div', { class: 'filter filter-end' }, summary));
  const el = h('div', { class: 'page' },
    pageHead('Users', 'Accounts, their roles and the client they belong to.'),
    h('section', { class: 'card card-flush' }, filters, body));
  let stopped = false;
  let all = [];
  let clients = new Map();
  let table = null;

  const me = () => (session.user ? session.user.id : null);

  function filtered() {
    const q = search.value.trim().toLowerCase();
    return all.filter((u) => (!roleSel.value || u.role === roleSel.value)
      && (!q || `${u.name} ${u.email}`.toLowerCase().includes(q)));
  }

  async function change(button, u, patch, verb) {
    if (patch.disabled === true || patch.role === 'client') {
      const ok = await confirmDialog({
        title: `${verb} ${u.email}?`,
        message: patch.disabled
          ? `${u.name || u.email} will not be able to log in, and open sessions end. Their containers keep running.`
          : `${u.name || u.email} will lose access to the admin pages and see only their own client's containers.`,
        confirmLabel: verb,
        danger: Boolean(patch.disabled),
      });
      if (!ok) return;
    }
    const who = u.name || u.email;
    const done = patch.role === 'admin' ? `${who} is now an admin.`
      : patch.role === 'client' ? `${who} is now a client.`
        : patch.disabled ? `${who} is disabled.` : `${who} is enabled again.`;
    await busy(button, async () => {
      await api.patchUser(u.id, patch);
      toast(done);
      await load();
    }, (e) => toast(`Could not change ${who}: ${e.message}`, 'error'));
  }

  function render() {
    const list = filtered();
    summary.textContent = `${list.length} of ${all.length} ${all.length === 1 ? 'user' : 'users'}`;
    if (!all.length) {
      table = null;
      replace(body, emptyState('No users', 'Accounts appear here when people sign up.'));
      return;
    }
    noMatch.hidden = list.length > 0;
    if (!table) {
      table = dataTable({
        caption: 'Users',
        rowKey: (u) => u.id,
        rows: [],
        columns: [
          {
            label: 'User',
            hideLabel: true,
            className: 'col-name',
            cell: (u) => h('div', { class: 'name-cell' },
              h('span', { class: 'strong' }, u.name || '—', u.id === me() ? h('span', { class: 'muted' }, ' (you)') : null),
              h('span', { class: 'muted small' }, u.email)),
          },
          { label: 'Role', cell: (u) => h('span', { class: ['tag', u.role === 'admin' && 'tag-admin'] }, u.role === 'admin' ? 'Admin' : 'Client') },
          { label: 'Client', cell: (u) => h('a', { href: '/admin/containers?clientId=' + encodeURIComponent(u.clientId || ''), class: 'subtle-link' }, clients.get(u.clientId) || u.clientId || '—') },
          {
            label: 'Status',
            cell: (u) => (u.disabled
              ? h('span', { class: 'pill pill-bad' }, h('span', { class: 'pill-dot', 'aria-hidden': 'true' }), 'Disabled')
              : h('span', { class: 'pill pill-ok' }, h('span', { class: 'pill-dot', 'aria-hidden': 'true' }), 'Active')),
          },
          { label: 'Joined', cell: (u) => timeAgo(u.createdAt) },
          {
            label: 'Actions',
            hideLabel: true,
            className: 'col-actions',
            cell: (u) => {
              const self = u.id === me();
              const roleBtn = h('button', {
                type: 'button', class: 'btn btn-small', dataset: { fkey: 'role' }, disabled: self || null,
                title: self ? 'You cannot change your own role' : null,
              }, u.role === 'admin' ? 'Make client' : 'Make admin');
              roleBtn.addEventListener('click', () => change(roleBtn, u, { role: u.role === 'admin' ? 'client' : 'admin' },
                u.role === 'admin' ? 'Make client' : 'Make admin'));
              const disBtn = h('button', {
                type: 'button', class: ['btn', 'btn-small', !u.disabled && 'btn-danger-ghost'], dataset: { fkey: 'disable' }, disabled: self || null,
                title: self ? 'You cannot disable yourself' : null,
              }, u.disabled ? 'Enable' : 'Disable');
              disBtn.addEventListener('click', () => change(disBtn, u, { disabled: !u.disabled }, u.disabled ? 'Enable' : 'Disable'));
              return h('div', { class: 'actions' }, roleBtn, disBtn);
            },
          },
        ],
      });
      replace(body, table.el, noMatch);
    }
    table.update(list);
  }
  const noMatch = h('p', { class: 'muted pad', hidden: true }, 'No user matches this search.');

  async function load() {
    try {
      const [users, cl] = await Promise.all([api.adminUsers(), api.adminClients().catch(() => [])]);
      if (stopped) return;
      all = users;
      clients = new Map(cl.map((c) => [c.id, c.name]));
      render();
    } catch (e) {
      if (stopped) return;
      table = null;
      replace(body, h('div', { class: 'pad' }, errorBox(e, load)));
    }
  }

  search.addEventListener('input', () => table && render());
  roleSel.addEventListener('change', () => table && render());
  filters.addEventListener('submit', (ev) => ev.preventDefault());
  load();
  return {
    el,
    title: 'Users',
    destroy() {
      stopped = true;
    },
  };
}
