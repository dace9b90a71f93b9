;;; codecomp.el --- codecomp-lsp for Emacs: eglot setup and inline suggestions -*- lexical-binding: t; -*-

;; Version: 0.1.0
;; Package-Requires: ((emacs "28.1") (eglot "1.9"))
;; Keywords: tools, languages, convenience

;;; Commentary:

;; Registers the codecomp-lsp AI completion server with eglot and adds what eglot lacks for it:
;; inline (ghost text) suggestions from `textDocument/inlineCompletion', shown as an overlay.
;; Menu completion works through eglot's `completion-at-point' as for any server.
;;
;;   (add-to-list 'load-path "/path/to/codecomp-lsp/editors/emacs")
;;   (require 'codecomp)
;;   (setq codecomp-model "/path/to/model")      ; or leave nil for the server's default
;;   (codecomp-setup)                            ; adds the server to `eglot-server-programs'
;;   (add-hook 'python-mode-hook #'eglot-ensure)
;;   (add-hook 'eglot-managed-mode-hook #'codecomp-auto-mode)   ; suggestions while typing
;;
;; Keys while a suggestion is shown (`codecomp-suggestion-mode-map'): TAB accepts it, C-<right>
;; accepts a word, C-<down> a line, M-] / M-[ cycle candidates, C-g dismisses.
;; `M-x codecomp-suggest' asks for suggestions on demand; `M-x codecomp-stats' shows counters.
;;
;; eglot runs one server per buffer: with this setup codecomp replaces the buffer's usual
;; language server in eglot.

;;; Code:

(require 'cl-lib)
(require 'subr-x)
(require 'eglot)
(require 'jsonrpc)

(defgroup codecomp nil
  "AI code completion with the codecomp-lsp language server."
  :group 'tools
  :prefix "codecomp-")

(defcustom codecomp-command '("codecomp-lsp")
  "Command (program and arguments) that starts codecomp-lsp over stdio."
  :type '(repeat string))

(defcustom codecomp-model nil
  "Model directory, .gguf file or hub id; sent as the `model' setting.
nil leaves the choice to the server (its shipped default)."
  :type '(choice (const :tag "Server default" nil) string))

(defcustom codecomp-settings nil
  "Plist of codecomp settings, sent as initializationOptions.
For example (:maxNewTokens 64 :candidates 3); the server's README lists them."
  :type 'plist)

(defcustom codecomp-major-modes
  '((python-mode . "python") (python-ts-mode . "python")
    (js-mode . "javascript") (js-ts-mode . "javascript")
    (typescript-mode . "typescript") (typescript-ts-mode . "typescript")
    (tsx-ts-mode . "typescriptreact")
    (go-mode . "go") (go-ts-mode . "go")
    (rust-mode . "rust") (rust-ts-mode . "rust")
    (java-mode . "java") (java-ts-mode . "java")
    (c-mode . "c") (c-ts-mode . "c")
    (c++-mode . "cpp") (c++-ts-mode . "cpp"))
  "Major modes that codecomp manages, with their LSP language ids."
  :type '(alist :key-type symbol :value-type string))

(defcustom codecomp-idle-delay 0.15
  "Seconds after the last edit before `codecomp-auto-mode' asks for a suggestion."
  :type 'number)

(defface codecomp-suggestion-face
  '((t :inherit shadow))
  "Face of the inline suggestion.")

(defconst codecomp--empty-object (make-hash-table :size 1)
  "The empty JSON object.")

;;;; Setup

(defun codecomp-settings-object ()
  "The `codecomp' settings object sent to the server (`codecomp-model' folded in)."
  (let ((settings (copy-sequence codecomp-settings)))
    (when codecomp-model
      (setq settings (plist-put settings :model codecomp-model)))
    (or settings codecomp--empty-object)))

(defun codecomp-eglot-contact (&optional _interactive)
  "The eglot contact for codecomp-lsp: its command plus initializationOptions."
  (append codecomp-command
          (list :initializationOptions
                (list :codecomp (codecomp-settings-object)))))

(defun codecomp--mode-specs ()
  (mapcar (lambda (entry) (list (car entry) :language-id (cdr entry)))
          codecomp-major-modes))

;;;###autoload
(defun codecomp-setup ()
  "Register codecomp-lsp in `eglot-server-programs' for `codecomp-major-modes'.
Also answers the server's workspace/configuration pull with the same settings
\(a `:codecomp' section in the default `eglot-workspace-configuration')."
  (interactive)
  (setq eglot-server-programs
        (cons (cons (codecomp--mode-specs) #'codecomp-eglot-contact)
              (cl-remove-if (lambda (entry) (eq (cdr entry) #'codecomp-eglot-contact))
                            eglot-server-programs)))
  ;; eglot sends workspace/didChangeConfiguration on connect and the server then pulls the
  ;; `codecomp' section: without one it would fall back to its defaults.
  (let ((config (default-value 'eglot-workspace-configuration)))
    (when (or (null config) (keywordp (car-safe config)))
      (setq-default eglot-workspace-configuration
                    (plist-put (copy-sequence config) :codecomp (codecomp-settings-object))))))

;; Sent only to clients that ask for it (or with the `streaming' setting): nothing to paint here.
(cl-defmethod eglot-handle-notification
  (_server (_method (eql codecomp/completionStream)) &rest _params)
  nil)

;;;; Requests

(defun codecomp--server ()
  (or (eglot-current-server)
      (user-error "codecomp: no eglot server in this buffer (M-x eglot)")))

(defun codecomp--params (invoked)
  (append (eglot--TextDocumentPositionParams)
          (list :context (list :triggerKind (if invoked 1 2)))))

(defun codecomp--item-id (item)
  "The server's id of an inline ITEM, from its command's arguments (or nil)."
  (let* ((args (plist-get (plist-get item :command) :arguments))
         (first (and (> (length args) 0) (elt args 0)))
         (id (and (listp first) (plist-get first :id))))
    (and (stringp id) id)))

(defun codecomp--id (text)
  "The server's id carried by suggestion TEXT (a text property), or nil."
  (and (stringp text) (not (string-empty-p text)) (get-text-property 0 'codecomp-id text)))

(defun codecomp--report (method text &rest params)
  "Tell the server what became of suggestion TEXT (METHOD: codecomp/didShow, ...)."
  (when-let ((id (codecomp--id text))
             (server (eglot-current-server)))
    (ignore-errors (jsonrpc-notify server method (append (list :id id) params)))))

(defun codecomp--texts (result start)
  "The insert texts of an inlineCompletion RESULT.
START is point when it was asked; texts are made relative to it.  Each text
carries its item's id as the text property `codecomp-id'."
  (let ((items (if (and (listp result) (plist-member result :items))
                   (plist-get result :items)
                 result))
        texts)
    (mapc
     (lambda (item)
       (let* ((raw (plist-get item :insertText))
              (text (if (stringp raw) raw (plist-get raw :value)))
              (range (plist-get item :range)))
         (when (and (stringp text) range)
           (let ((from (eglot--lsp-position-to-point (plist-get range :start))))
             (cond ((= from start))
                   ((and (< from start)
                         (string-prefix-p (buffer-substring-no-properties from start) text))
                    (setq text (substring text (- start from))))
                   (t (setq text nil)))))
         (when (and (stringp text) (not (string-empty-p text)))
           (setq text (string-replace "\r\n" "\n" text))
           (when-let ((id (codecomp--item-id item)))
             (setq text (propertize text 'codecomp-id id)))
           (unless (member text texts)
             (push text texts)))))
     (if (vectorp items) items (append items nil)))
    (nreverse texts)))

(defun codecomp-request-inline (&optional invoked)
  "Ask the server for inline suggestions at point; return their texts (a list).
INVOKED non-nil asks for every candidate (trigger kind Invoked)."
  (let ((server (codecomp--server))
        (start (point)))
    (eglot--signal-textDocument/didChange)
    (codecomp--texts
     (jsonrpc-request server :textDocument/inlineCompletion (codecomp--params invoked))
     start)))

;;;###autoload
(defun codecomp-stats (&optional reset)
  "Show the server's counters (model, device, latency).
With prefix argument RESET, reset them."
  (interactive "P")
  (let ((stats (jsonrpc-request (codecomp--server) :codecomp/stats
                                (if reset (list :reset t) codecomp--empty-object))))
    (when (called-interactively-p 'interactive)
      (message "codecomp: %s on %s (%s), %s requests"
               (plist-get stats :model) (plist-get stats :device)
               (plist-get stats :modelState) (plist-get stats :requests)))
    stats))

;;;; Showing a suggestion

(defvar-local codecomp--overlay nil)
(defvar-local codecomp--items nil "Candidate texts of the suggestion shown.")
(defvar-local codecomp--index 0)
(defvar-local codecomp--invoked nil "The candidates came from an Invoked request.")
(defvar-local codecomp--tick nil "`buffer-chars-modified-tick' when the suggestion was shown.")
(defvar-local codecomp--reported nil "The id last reported with codecomp/didShow.")

(defvar codecomp-suggestion-mode-map
  (let ((map (make-sparse-keymap)))
    (define-key map (kbd "TAB") #'codecomp-accept)
    (define-key map (kbd "<tab>") #'codecomp-accept)
    (define-key map (kbd "C-<right>") #'codecomp-accept-word)
    (define-key map (kbd "C-<down>") #'codecomp-accept-line)
    (define-key map (kbd "M-]") #'codecomp-next)
    (define-key map (kbd "M-[") #'codecomp-previous)
    (define-key map (kbd "C-g") #'codecomp-dismiss)
    map)
  "Keys active while a suggestion is shown.")

(define-minor-mode codecomp-suggestion-mode
  "Active while an inline suggestion is shown; see `codecomp-suggestion-mode-map'."
  :lighter nil
  (if codecomp-suggestion-mode
      (add-hook 'pre-command-hook #'codecomp--pre-command nil t)
    (remove-hook 'pre-command-hook #'codecomp--pre-command t)))

(defconst codecomp--own-commands
  '(codecomp-accept codecomp-accept-word codecomp-accept-line codecomp-next
    codecomp-previous codecomp-dismiss codecomp-suggest))

(defun codecomp--pre-command ()
  (unless (memq this-command codecomp--own-commands)
    (codecomp-dismiss)))

(defun codecomp-current ()
  "The text of the suggestion shown at point, or nil."
  (when (and codecomp--overlay (overlay-buffer codecomp--overlay)
             (= (point) (overlay-start codecomp--overlay))
             (eql codecomp--tick (buffer-chars-modified-tick)))
    (nth codecomp--index codecomp--items)))

(defun codecomp--render ()
  (when codecomp--overlay
    (delete-overlay codecomp--overlay))
  (let* ((text (nth codecomp--index codecomp--items))
         (count (length codecomp--items))
         (shown (concat text (if (> count 1)
                                 (format " (%d/%d)" (1+ codecomp--index) count)
                               "")))
         (ov (make-overlay (point) (point) nil nil t)))
    (setq shown (propertize shown 'face 'codecomp-suggestion-face))
    (put-text-property 0 1 'cursor t shown)
    (overlay-put ov 'after-string shown)
    (overlay-put ov 'codecomp t)
    (setq codecomp--overlay ov
          codecomp--tick (buffer-chars-modified-tick))
    (let ((id (codecomp--id text)))
      (when (and id (not (equal id codecomp--reported)))
        (setq codecomp--reported id)
        (codecomp--report :codecomp/didShow text)))
    (codecomp-suggestion-mode 1)))

(defun codecomp--show (texts &optional invoked)
  (let ((previous (codecomp-current)))
    (codecomp--clear)
    (when texts
      (setq codecomp--items texts
            codecomp--invoked invoked
            codecomp--index (or (and previous (cl-position previous texts :test #'equal)) 0))
      (codecomp--render))))

(defun codecomp--clear ()
  (when codecomp--overlay
    (delete-overlay codecomp--overlay))
  (setq codecomp--overlay nil codecomp--items nil codecomp--index 0 codecomp--invoked nil)
  (when codecomp-suggestion-mode
    (codecomp-suggestion-mode -1)))

;;;###autoload
(defun codecomp-suggest (&optional automatic)
  "Ask for suggestions at point and show the first; return its text or nil.
AUTOMATIC non-nil asks as if typing (one candidate) instead of every candidate."
  (interactive)
  (let ((texts (codecomp-request-inline (not automatic))))
    (codecomp--show texts (not automatic))
    (when (and (called-interactively-p 'interactive) (null texts))
      (message "codecomp: no suggestion"))
    (car texts)))

(defun codecomp-dismiss ()
  "Hide the suggestion."
  (interactive)
  (let ((shown (codecomp-current)))
    (when (and shown (eq this-command 'codecomp-dismiss))
      (codecomp--report :codecomp/didDismiss shown)) ; typing on is not a dismissal
    (codecomp--clear)
    (when (and (not shown) (called-interactively-p 'interactive)
               (eq this-command 'codecomp-dismiss))
      (keyboard-quit))
    (and shown t)))

(defun codecomp--split (text how)
  (pcase how
    ('word (if (string-match "\\`\\s-*\\(?:\\w\\|_\\)+\\|\\`\\s-*[^[:alnum:]_[:space:]]+\\|\\`\\s-+"
                             text)
               (match-string 0 text)
             text))
    ('line (if (string-match "\\`[^\n]*\n?" text) (match-string 0 text) text))
    (_ text)))

(defun codecomp--accept (how)
  (let ((text (codecomp-current)))
    (if (not text)
        (progn (codecomp--clear) nil)
      (let* ((part (codecomp--split text how))
             (rest (substring text (length part))))
        (codecomp--clear)
        (insert (substring-no-properties part))
        (codecomp--report :codecomp/didAccept text
                          :kind (pcase how ('word "word") ('line "line") (_ "full"))
                          :text (substring-no-properties part))
        (when (not (string-empty-p rest))
          (setq codecomp--items (list rest) codecomp--index 0)
          (codecomp--render))
        part))))

(defun codecomp-accept ()
  "Insert the whole suggestion (TAB's usual meaning when none is shown)."
  (interactive)
  (or (codecomp--accept 'all)
      (when (called-interactively-p 'interactive)
        (codecomp--fallback))))

(defun codecomp-accept-word ()
  "Insert the suggestion up to the end of its next word."
  (interactive)
  (codecomp--accept 'word))

(defun codecomp-accept-line ()
  "Insert the suggestion up to and including its next line break."
  (interactive)
  (codecomp--accept 'line))

(defun codecomp--fallback ()
  (let* ((codecomp-suggestion-mode nil)
         (command (key-binding (this-command-keys-vector))))
    (when (and command (not (memq command codecomp--own-commands)))
      (call-interactively command))))

(defun codecomp--cycle (delta)
  (when (codecomp-current)
    (unless codecomp--invoked
      (codecomp--show (codecomp-request-inline t) t))
    (when codecomp--items
      (setq codecomp--index (mod (+ codecomp--index delta) (length codecomp--items)))
      (codecomp--render))))

(defun codecomp-next ()
  "Show the next candidate (asking the server for all of them first)."
  (interactive)
  (codecomp--cycle 1))

(defun codecomp-previous ()
  "Show the previous candidate."
  (interactive)
  (codecomp--cycle -1))

;;;; Suggestions while typing

(defvar-local codecomp--timer nil)
(defvar-local codecomp--pending nil "Token of the pending asynchronous request.")
(defvar-local codecomp--pending-id nil "JSON-RPC id of that request, when jsonrpc tells it.")

(defun codecomp--cancel-pending ()
  (when codecomp--timer
    (cancel-timer codecomp--timer)
    (setq codecomp--timer nil))
  (when-let ((id codecomp--pending-id)
             (server (eglot-current-server)))
    (ignore-errors (jsonrpc-notify server :$/cancelRequest (list :id id))))
  (setq codecomp--pending nil codecomp--pending-id nil))

(defun codecomp--auto-request (buffer)
  (when (and (buffer-live-p buffer) (eq buffer (current-buffer)))
    (with-current-buffer buffer
      (setq codecomp--timer nil)
      (when-let ((server (eglot-current-server)))
        (eglot--signal-textDocument/didChange)
        (let ((start (point))
              (tick (buffer-chars-modified-tick))
              (token (make-symbol "codecomp-request")))
          (setq codecomp--pending token)
          (let ((sent (jsonrpc-async-request
                       server :textDocument/inlineCompletion (codecomp--params nil)
                       :success-fn
                       (lambda (result)
                         (when (buffer-live-p buffer)
                           (with-current-buffer buffer
                             (when (and (eq codecomp--pending token)
                                        (eq buffer (window-buffer (selected-window)))
                                        (= (point) start)
                                        (eql tick (buffer-chars-modified-tick)))
                               (setq codecomp--pending nil codecomp--pending-id nil)
                               (codecomp--show (codecomp--texts result start))))))
                       :error-fn #'ignore
                       :timeout-fn #'ignore)))
            ;; jsonrpc 1.0.14 returns (ID TIMER); later versions may return nil.
            (setq codecomp--pending-id (and (consp sent) (car sent)))))))))

(defvar-local codecomp--cursor-timer nil)
(defvar-local codecomp--cursor-sent nil "The point last reported with codecomp/cursor.")

(defun codecomp--report-cursor (buffer)
  "Tell the server where point rests, so it prefills the model's cache there."
  (when (and (buffer-live-p buffer) (eq buffer (current-buffer)))
    (with-current-buffer buffer
      (setq codecomp--cursor-timer nil)
      (when-let ((server (eglot-current-server)))
        (unless (eql codecomp--cursor-sent (point))
          (setq codecomp--cursor-sent (point))
          (eglot--signal-textDocument/didChange)
          (ignore-errors
            (jsonrpc-notify server :codecomp/cursor (eglot--TextDocumentPositionParams))))))))

(defun codecomp--post-command ()
  (if (and (memq this-command '(self-insert-command newline delete-backward-char
                                backward-delete-char-untabify python-indent-dedent-line-backspace))
           (not (codecomp-current)))
      (progn
        (codecomp--cancel-pending)
        (setq codecomp--cursor-sent (point)) ; the edit tells the server where point is
        (setq codecomp--timer
              (run-with-timer codecomp-idle-delay nil #'codecomp--auto-request (current-buffer))))
    (when codecomp--cursor-timer
      (cancel-timer codecomp--cursor-timer))
    (setq codecomp--cursor-timer
          (run-with-timer codecomp-idle-delay nil #'codecomp--report-cursor (current-buffer)))))

;;;###autoload
(define-minor-mode codecomp-auto-mode
  "Ask codecomp for an inline suggestion after each edit.
Requests wait `codecomp-idle-delay' seconds after the last edit."
  :lighter " cc"
  (if codecomp-auto-mode
      (add-hook 'post-command-hook #'codecomp--post-command nil t)
    (remove-hook 'post-command-hook #'codecomp--post-command t)
    (codecomp--cancel-pending)
    (codecomp--clear)))

(provide 'codecomp)
;;; codecomp.el ends here
