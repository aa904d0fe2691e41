// Validates every document of the YAML files given against the Kubernetes schemas, offline:
// kubernetes-models for the core and apps groups, @kubernetes-models/prometheus-operator for
// the ServiceMonitor; and that a DaemonSet's containers run unprivileged with exactly the
// capabilities `nsflow run` checks for (loader/caps.c). Exits 1 naming the document and what is
// wrong.
// Run with the modules' directory as the first argument (ESM ignores NODE_PATH).
import fs from 'fs';
import path from 'path';
import { pathToFileURL } from 'url';
import { createRequire } from 'module';
const mods = process.argv[2];
const load = (m) => import(pathToFileURL(path.resolve(mods, m, 'index.js')).href);
const yaml = createRequire(path.resolve(mods, 'x.js'))('js-yaml');
const core = await load('kubernetes-models/v1');
const apps = await load('kubernetes-models/apps/v1');
const mon = await load('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1');
const models = {
	'v1/ConfigMap': () => core.ConfigMap,
	'v1/Service': () => core.Service,
	'apps/v1/DaemonSet': () => apps.DaemonSet,
	'monitoring.coreos.com/v1/ServiceMonitor': () => mon.ServiceMonitor,
};
// caps_check_run() in loader/caps.c, without the CAP_ prefix
const runCaps = ['BPF', 'NET_ADMIN', 'PERFMON', 'SYS_ADMIN'];
const capsProblem = (doc) => {
	for (const c of doc.spec.template.spec.containers) {
		const sc = c.securityContext || {};
		const caps = sc.capabilities || {};
		const add = [...(caps.add || [])].sort();
		if (sc.privileged !== false)
			return `container ${c.name}: privileged must be false`;
		if (JSON.stringify(caps.drop) !== '["ALL"]')
			return `container ${c.name}: capabilities.drop must be [ALL]`;
		if (JSON.stringify(add) !== JSON.stringify(runCaps))
			return `container ${c.name}: capabilities.add is [${add}], nsflow run needs [${runCaps}]`;
	}
	return null;
};
let bad = 0;
for (const file of process.argv.slice(3)) {
	yaml.loadAll(fs.readFileSync(file, 'utf8')).forEach((doc, i) => {
		const kind = `${doc.apiVersion}/${doc.kind}`;
		const where = `${file} document ${i + 1} (${kind} ${doc.metadata && doc.metadata.name})`;
		if (!models[kind]) {
			console.error(`${where}: no schema for ${kind}`);
			bad++;
			return;
		}
		try {
			new (models[kind]())(doc).validate();
			const caps = kind === 'apps/v1/DaemonSet' && capsProblem(doc);
			if (caps)
				throw new Error(caps);
			console.log(`${where}: valid`);
		} catch (e) {
			console.error(`${where}: ${e.message}`);
			bad++;
		}
	});
}
process.exit(bad ? 1 : 0);
