/*
 * gss_null.c -- a GSS-API (RFC 2744) that offers no mechanism, for the
 * command-line tools when they link libtirpc statically (STATIC_TIRPC=1,
 * an opt-in build flag; by default they link libtirpc.so).
 *
 * Why: libtirpc.so carries RPCSEC_GSS and so loads MIT Kerberos, seven
 * more libraries mapped at every tool's start (the cost is measured in
 * docs/BENCHMARKS.md, "Static libtirpc in the tools").  A tool built
 * with libtirpc.a takes these functions in place of the Kerberos ones:
 * every call that would start a security context reports
 * GSS_S_UNAVAILABLE, as a GSS-API with no mechanism installed does, and
 * nothing is ever allocated, so the release calls only clear what they
 * are given.  Such a tool cannot use RPCSEC_GSS; that is why it is not
 * the default.  Nothing in dfs calls these; they are here so that
 * libtirpc.a links.
 *
 * The daemons and libdfs.so always link libtirpc.so.  The prototypes
 * come from <gssapi/gssapi.h> (libkrb5-dev), so the compiler checks
 * each one against the real interface.
 */
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>

#include <stddef.h>

/* the two name types libtirpc refers to, with their RFC 2744 values */
static gss_OID_desc user_name_oid = {
	10, (void *)"\x2a\x86\x48\x86\xf7\x12\x01\x02\x01\x01"
};
static gss_OID_desc hostbased_oid = {
	10, (void *)"\x2a\x86\x48\x86\xf7\x12\x01\x02\x01\x04"
};
gss_OID GSS_C_NT_USER_NAME = &user_name_oid;
gss_OID GSS_C_NT_HOSTBASED_SERVICE = &hostbased_oid;

static OM_uint32
unavailable(OM_uint32 *minor)
{
	if (minor != NULL)
		*minor = 0;
	return GSS_S_UNAVAILABLE;
}

static OM_uint32
complete(OM_uint32 *minor)
{
	if (minor != NULL)
		*minor = 0;
	return GSS_S_COMPLETE;
}

static void
empty(gss_buffer_t b)
{
	if (b != GSS_C_NO_BUFFER) {
		b->length = 0;
		b->value = NULL;
	}
}

/* --- calls that would need a mechanism ------------------------------- */

OM_uint32
gss_acquire_cred(OM_uint32 *minor, gss_name_t name, OM_uint32 time_req,
    gss_OID_set mechs, gss_cred_usage_t usage, gss_cred_id_t *cred,
    gss_OID_set *actual, OM_uint32 *time_rec)
{
	(void)name, (void)time_req, (void)mechs, (void)usage;
	(void)actual, (void)time_rec;
	if (cred != NULL)
		*cred = GSS_C_NO_CREDENTIAL;
	return unavailable(minor);
}

OM_uint32
gss_init_sec_context(OM_uint32 *minor, gss_cred_id_t cred,
    gss_ctx_id_t *ctx, gss_name_t target, gss_OID mech, OM_uint32 flags,
    OM_uint32 time_req, gss_channel_bindings_t cb, gss_buffer_t in,
    gss_OID *actual, gss_buffer_t out, OM_uint32 *ret_flags,
    OM_uint32 *time_rec)
{
	(void)cred, (void)ctx, (void)target, (void)mech, (void)flags;
	(void)time_req, (void)cb, (void)in, (void)actual, (void)ret_flags;
	(void)time_rec;
	empty(out);
	return unavailable(minor);
}

OM_uint32
gss_accept_sec_context(OM_uint32 *minor, gss_ctx_id_t *ctx,
    gss_cred_id_t cred, gss_buffer_t in, gss_channel_bindings_t cb,
    gss_name_t *src, gss_OID *mech, gss_buffer_t out, OM_uint32 *ret_flags,
    OM_uint32 *time_rec, gss_cred_id_t *delegated)
{
	(void)ctx, (void)cred, (void)in, (void)cb, (void)mech;
	(void)ret_flags, (void)time_rec;
	if (src != NULL)
		*src = GSS_C_NO_NAME;
	if (delegated != NULL)
		*delegated = GSS_C_NO_CREDENTIAL;
	empty(out);
	return unavailable(minor);
}

OM_uint32
gss_import_name(OM_uint32 *minor, gss_buffer_t in, gss_OID type,
    gss_name_t *out)
{
	(void)in, (void)type;
	if (out != NULL)
		*out = GSS_C_NO_NAME;
	return unavailable(minor);
}

OM_uint32
gss_canonicalize_name(OM_uint32 *minor, const gss_name_t in,
    const gss_OID mech, gss_name_t *out)
{
	(void)in, (void)mech;
	if (out != NULL)
		*out = GSS_C_NO_NAME;
	return unavailable(minor);
}

OM_uint32
gss_duplicate_name(OM_uint32 *minor, const gss_name_t in, gss_name_t *out)
{
	(void)in;
	if (out != NULL)
		*out = GSS_C_NO_NAME;
	return unavailable(minor);
}

OM_uint32
gss_display_name(OM_uint32 *minor, gss_name_t in, gss_buffer_t out,
    gss_OID *type)
{
	(void)in;
	if (type != NULL)
		*type = GSS_C_NO_OID;
	empty(out);
	return unavailable(minor);
}

OM_uint32
gss_export_name(OM_uint32 *minor, const gss_name_t in, gss_buffer_t out)
{
	(void)in;
	empty(out);
	return unavailable(minor);
}

OM_uint32
gss_pname_to_uid(OM_uint32 *minor, const gss_name_t name,
    const gss_OID mech, uid_t *uid)
{
	(void)name, (void)mech, (void)uid;
	return unavailable(minor);
}

OM_uint32
gss_display_status(OM_uint32 *minor, OM_uint32 status, int type,
    gss_OID mech, OM_uint32 *more, gss_buffer_t out)
{
	(void)status, (void)type, (void)mech;
	if (more != NULL)
		*more = 0;
	empty(out);
	return unavailable(minor);
}

OM_uint32
gss_get_mic(OM_uint32 *minor, gss_ctx_id_t ctx, gss_qop_t qop,
    gss_buffer_t msg, gss_buffer_t token)
{
	(void)ctx, (void)qop, (void)msg;
	empty(token);
	return unavailable(minor);
}

OM_uint32
gss_sign(OM_uint32 *minor, gss_ctx_id_t ctx, int qop, gss_buffer_t msg,
    gss_buffer_t token)
{
	(void)ctx, (void)qop, (void)msg;
	empty(token);
	return unavailable(minor);
}

OM_uint32
gss_verify_mic(OM_uint32 *minor, gss_ctx_id_t ctx, gss_buffer_t msg,
    gss_buffer_t token, gss_qop_t *qop)
{
	(void)ctx, (void)msg, (void)token, (void)qop;
	return unavailable(minor);
}

OM_uint32
gss_wrap(OM_uint32 *minor, gss_ctx_id_t ctx, int conf_req, gss_qop_t qop,
    gss_buffer_t in, int *conf_state, gss_buffer_t out)
{
	(void)ctx, (void)conf_req, (void)qop, (void)in, (void)conf_state;
	empty(out);
	return unavailable(minor);
}

OM_uint32
gss_unwrap(OM_uint32 *minor, gss_ctx_id_t ctx, gss_buffer_t in,
    gss_buffer_t out, int *conf_state, gss_qop_t *qop)
{
	(void)ctx, (void)in, (void)conf_state, (void)qop;
	empty(out);
	return unavailable(minor);
}

OM_uint32
gss_wrap_size_limit(OM_uint32 *minor, gss_ctx_id_t ctx, int conf_req,
    gss_qop_t qop, OM_uint32 req_out, OM_uint32 *max_in)
{
	(void)ctx, (void)conf_req, (void)qop, (void)req_out;
	if (max_in != NULL)
		*max_in = 0;
	return unavailable(minor);
}

/* --- releases: nothing was ever allocated ---------------------------- */

OM_uint32
gss_delete_sec_context(OM_uint32 *minor, gss_ctx_id_t *ctx, gss_buffer_t out)
{
	if (ctx != NULL)
		*ctx = GSS_C_NO_CONTEXT;
	empty(out);
	return complete(minor);
}

OM_uint32
gss_release_buffer(OM_uint32 *minor, gss_buffer_t b)
{
	empty(b);
	return complete(minor);
}

OM_uint32
gss_release_name(OM_uint32 *minor, gss_name_t *name)
{
	if (name != NULL)
		*name = GSS_C_NO_NAME;
	return complete(minor);
}

OM_uint32
gss_release_cred(OM_uint32 *minor, gss_cred_id_t *cred)
{
	if (cred != NULL)
		*cred = GSS_C_NO_CREDENTIAL;
	return complete(minor);
}
