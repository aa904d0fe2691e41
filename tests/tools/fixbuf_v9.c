// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fixbuf_v9 PORT SECONDS: libfixbuf as a NetFlow v9 collector on 127.0.0.1:PORT (its v9
 * translator turns each message into IPFIX, which fixbuf then reads strictly). Prints
 * "listening" once bound, a line "error: ..." / "warning: ..." for each complaint of fixbuf's,
 * and "flows N options M" once the exporter has been quiet for a second (or nothing came in
 * SECONDS). Exit status 0 when records were read without a complaint, 1 after a complaint, 3
 * when nothing came.
 */
#include <fixbuf/public.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned int complaints;

static void on_log(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer arg)
{
	(void)domain;
	(void)arg;
	if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)) {
		printf("warning: %s\n", msg);
		complaints++;
	}
}

/*
 * The external template as the internal one too, so that every field of every record is read.
 * The session then holds it twice; it is never freed.
 */
static gboolean use_template(fbSession_t *s, fBuf_t *buf, fbTemplate_t *ext, uint16_t tid,
			     GError **err)
{
	if (fbSessionGetTemplate(s, TRUE, tid, NULL) != ext &&
	    !fbSessionAddTemplate(s, TRUE, tid, ext, err))
		return FALSE;
	return fBufSetInternalTemplate(buf, tid, err);
}

static unsigned long long flows, options;

static void summary(void)
{
	printf("flows %llu options %llu\n", flows, options);
	fflush(stdout);
}

/* fixbuf retries reads a signal interrupts: the end is decided here */
static void on_alarm(int sig)
{
	(void)sig;
	summary();
	_exit(complaints ? 1 : flows + options ? 0 : 3);
}

int main(int argc, char **argv)
{
	fbConnSpec_t spec = { .transport = FB_UDP, .host = "127.0.0.1" };
	static uint8_t rec[65536];
	fbInfoModel_t *model;
	fbSession_t *session;
	fbListener_t *l;
	fbCollector_t *coll;
	fBuf_t *buf = NULL;
	GError *err = NULL;

	if (argc != 3) {
		fprintf(stderr, "usage: fixbuf_v9 PORT SECONDS\n");
		return 2;
	}
	spec.svc = argv[1];
	g_log_set_default_handler(on_log, NULL);
	signal(SIGALRM, on_alarm);
	alarm((unsigned int)atoi(argv[2]));
	model = fbInfoModelAlloc();
	session = fbSessionAlloc(model);
	l = fbListenerAlloc(&spec, session, NULL, NULL, &err);
	if (!l || !fbListenerGetCollector(l, &coll, &err) ||
	    !fbCollectorSetNetflowV9Translator(coll, &err)) {
		fprintf(stderr, "fixbuf_v9: listen: %s\n", err->message);
		return 2;
	}
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		fbTemplate_t *ext;
		uint16_t tid;
		size_t len = sizeof(rec);

		if (!buf) {
			buf = fbListenerWait(l, &err);
			if (!buf) {
				printf("error: %s\n", err ? err->message : "no buffer");
				complaints++;
				break;
			}
			fBufSetAutomaticMode(buf, FALSE);
		}
		ext = fBufNextCollectionTemplate(buf, &tid, &err);
		if (!ext) {
			if (g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_EOM) ||
			    g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_NLREAD)) {
				g_clear_error(&err);
				if (!fBufNextMessage(buf, &err) &&
				    !g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_NLREAD) &&
				    !g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_EOM)) {
					printf("error: %s\n", err->message);
					complaints++;
				}
				g_clear_error(&err);
				continue;
			}
			printf("error: %s\n", err ? err->message : "no template");
			complaints++;
			g_clear_error(&err);
			continue;
		}
		if (!use_template(fBufGetSession(buf), buf, ext, tid, &err) ||
		    !fBufNext(buf, rec, &len, &err)) {
			printf("error: template %u: %s\n", tid, err ? err->message : "?");
			complaints++;
			g_clear_error(&err);
			continue;
		}
		if (fbTemplateGetOptionsScope(ext))
			options++;
		else
			flows++;
		alarm(1); /* a second of quiet after the last record ends it */
	}
	summary();
	return complaints ? 1 : 0;
}
