/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Mesh configuration: Istio and Kubernetes resources read from YAML, as
 * they are written for Istio (ServiceEntry, WorkloadEntry, VirtualService,
 * DestinationRule, ...) and Kubernetes (Service, EndpointSlice, Endpoints,
 * Pod).  Loading is all-or-nothing: every file is parsed and validated
 * before anything is returned, and the first problems are reported as
 * "file:line: what is wrong" (pr_warn), so a caller that gets an error
 * keeps whatever configuration it already had.
 *
 * Kinds weft does not implement yet are skipped with one pr_info line
 * ("file:line: skipping Gateway default/bookinfo-gateway: not implemented")
 * and counted in mesh_summary.skipped.
 */
#ifndef WEFT_MESH_H
#define WEFT_MESH_H

#include <stddef.h>

struct mesh_config; /* opaque; see mesh-t.h inside user/lib */

struct mesh_summary {
	size_t services;          /* Kubernetes Service */
	size_t endpoint_slices;   /* discovery.k8s.io EndpointSlice */
	size_t endpoints;         /* legacy v1 Endpoints */
	size_t pods;
	size_t service_entries;
	size_t workload_entries;
	size_t virtual_services;  /* parsed and validated, compiled later */
	size_t destination_rules;
	size_t authorization_policies;
	size_t peer_authentications;
	size_t skipped;           /* documents of kinds not implemented */
};

/*
 * Load every *.yaml / *.yml file directly in dir, in name order; each file
 * may hold several documents separated by "---".  Returns 0 and a config
 * in *out, or a negative errno (-EINVAL for bad input, -ENOENT, -ENOMEM)
 * with *out untouched.
 */
int mesh_config_load_dir(const char *dir, struct mesh_config **out);

/* Same for an explicit list of files (order kept). */
int mesh_config_load_files(const char *const *paths, size_t npaths,
			   struct mesh_config **out);

/* Same for one in-memory buffer; name is used in diagnostics. */
int mesh_config_load_buffer(const char *name, const char *buf, size_t len,
			    struct mesh_config **out);

void mesh_config_free(struct mesh_config *cfg); /* accepts NULL */

void mesh_config_summary(const struct mesh_config *cfg,
			 struct mesh_summary *out);

#endif /* WEFT_MESH_H */
