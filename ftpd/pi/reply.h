/* reply: FTP replies on the control connection (RFC 959 section 4.2): the
 * reply codes by name, the texts several places send, and how they go out. */
#ifndef FTPD_PI_REPLY_H
#define FTPD_PI_REPLY_H

#include "ftpd/session.h"

/* The reply codes ftpd sends: RFC 959, with RFC 2228 (security), RFC 2428
 * (EPRT/EPSV), RFC 3659 (SIZE, MDTM, MLST) and RFC 4217 (FTP over TLS). */
enum ftp_reply {
	/* clang-format off */
	FTP_DATA_OPENING		= 150, /* about to open the data connection */
	FTP_OK				= 200,
	FTP_NOT_NEEDED			= 202, /* command superfluous at this site */
	FTP_SYSTEM_STATUS		= 211, /* STAT without argument, FEAT */
	FTP_FILE_STATUS			= 213, /* STAT path, SIZE, MDTM, MFMT */
	FTP_HELP			= 214,
	FTP_SYSTEM_TYPE			= 215,
	FTP_SERVICE_READY		= 220,
	FTP_CLOSING			= 221, /* goodbye: control connection closes */
	FTP_DATA_OPEN_NO_TRANSFER	= 225, /* ABOR with nothing to abort */
	FTP_TRANSFER_COMPLETE		= 226, /* closing the data connection */
	FTP_PASSIVE_MODE		= 227, /* made by ftpaddr_format_pasv */
	FTP_EXTENDED_PASSIVE_MODE	= 229, /* made by ftpaddr_format_epsv */
	FTP_LOGGED_IN			= 230,
	FTP_AUTH_OK			= 234, /* RFC 2228: AUTH accepted, handshake next */
	FTP_FILE_ACTION_OK		= 250,
	FTP_PATH_CREATED		= 257, /* also PWD's answer */
	FTP_NEED_PASSWORD		= 331,
	FTP_PENDING_FURTHER_INFO	= 350, /* REST, RNFR: the next command completes it */
	FTP_SERVICE_UNAVAILABLE		= 421, /* closing: shutdown or timeout */
	FTP_CANNOT_OPEN_DATA		= 425,
	FTP_TRANSFER_ABORTED		= 426,
	FTP_FILE_BUSY			= 450, /* the file is in use (an upload of it runs) */
	FTP_LOCAL_ERROR			= 451,
	FTP_SYNTAX_ERROR		= 500, /* command unrecognized or refused */
	FTP_ARG_SYNTAX_ERROR		= 501,
	FTP_NOT_IMPLEMENTED		= 502,
	FTP_BAD_SEQUENCE		= 503,
	FTP_PARAM_NOT_IMPLEMENTED	= 504,
	FTP_PROTO_NOT_SUPPORTED		= 522, /* RFC 2428: network protocol */
	FTP_DATA_TLS_REFUSED		= 522, /* RFC 4217: data connection protection */
	FTP_NOT_LOGGED_IN		= 530,
	FTP_POLICY_REFUSED		= 534, /* RFC 2228: denied for policy reasons */
	FTP_TLS_UNAVAILABLE		= 431, /* RFC 2228: a security resource is unavailable */
	FTP_PROT_NOT_SUPPORTED		= 536, /* RFC 2228: PROT level */
	FTP_FILE_UNAVAILABLE		= 550,
	FTP_QUOTA_EXCEEDED		= 552, /* quota_bytes or quota_files would be passed */
	FTP_NAME_NOT_ALLOWED		= 553,
	FTP_BAD_REST			= 554, /* RFC 3659: REST position not usable */
	FTP_HASH_REFUSED		= 556, /* draft-bryan-ftpext-hash: not a file to hash */
	/* clang-format on */
};

/* Texts sent from more than one place. */
#define FTP_TEXT_PERMISSION_DENIED "Permission denied."
#define FTP_TEXT_QUOTA "Requested file action aborted. Exceeded storage allocation."
#define FTP_TEXT_QUOTA_FAIL "Could not update the quota usage"
#define FTP_TEXT_NOOP "NOOP ok."
#define FTP_TEXT_LINE_TOO_LONG "Command line too long."
#define FTP_TEXT_HELP_OK "Help OK."
#define FTP_TEXT_EPSV_ALL "EPSV ALL in effect: use EPSV."
#define FTP_TEXT_NO_PASV_PORT "Could not open a passive port."
#define FTP_TEXT_PROTO_1_2 "Network protocol not supported, use (1,2)"
#define FTP_TEXT_ILLEGAL_PORT "Illegal PORT command."

/* Queue "code text\r\n" on the control connection; it leaves with the
 * next flush (before the PI blocks on a read). */
void reply(struct ftp_session *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The first line of a multi-line reply, "code-text\r\n"; the lines after
 * it are the caller's, and reply() with the same code ends it. */
void reply_start(struct ftp_session *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "what: why." with why from errno, in the words clients show users. */
void reply_errno(struct ftp_session *s, int code, const char *what);

#endif
