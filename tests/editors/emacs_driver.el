;;; emacs_driver.el --- Batch round trip: codecomp.el + eglot + the real server -*- lexical-binding: t; -*-

;; emacs --batch -q -l emacs_driver.el, with
;;   CODECOMP_TEST_EL       directory of codecomp.el
;;   CODECOMP_TEST_CMD      the server command as a JSON list
;;   CODECOMP_TEST_MODEL    the model directory
;;   CODECOMP_TEST_FILE     the Python file to open
;;   CODECOMP_TEST_RESULTS  file that gets one JSON object per step
;;   CODECOMP_TEST_TIMEOUT  seconds before the watchdog kills Emacs (default 80)

;;; Code:

(require 'json)
(require 'cl-lib)

(defvar ct-results (getenv "CODECOMP_TEST_RESULTS"))

(defun ct-json (value)
  "VALUE with lists of non-conses turned into vectors, so `json-encode' makes arrays."
  (cond ((and (consp value) (consp (car value)) (not (consp (cdr (car value)))))
         (mapcar (lambda (pair) (cons (car pair) (ct-json (cdr pair)))) value))
        ((and (consp value) (keywordp (car value))) value)
        ((consp value) (vconcat (mapcar #'ct-json value)))
        (t value)))

(defun ct-emit (alist)
  (with-temp-buffer
    (insert (json-encode (ct-json alist)) "\n")
    (write-region (point-min) (point-max) ct-results t 'silent)))

(defun ct-wait (pred seconds)
  "Process events until PRED returns non-nil (returned) or SECONDS pass (nil)."
  (let ((deadline (+ (float-time) seconds))
        value)
    (while (and (not (setq value (funcall pred))) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    value))

(defmacro ct-step (name &rest body)
  "Run BODY (returning an alist) as step NAME; errors become the step's error."
  (declare (indent 1))
  `(let ((started (float-time)))
     (ct-emit
      (append (list (cons "step" ,name))
              (condition-case err
                  (progn ,@body)
                (error (list (cons "error" (error-message-string err)))))
              (list (cons "ms" (round (* 1000 (- (float-time) started)))))))))

(run-at-time (string-to-number (or (getenv "CODECOMP_TEST_TIMEOUT") "80")) nil
             (lambda ()
               (ct-emit '(("step" . "watchdog") ("error" . "the driver did not finish in time")))
               (kill-emacs 3)))

(add-to-list 'load-path (getenv "CODECOMP_TEST_EL"))
(require 'codecomp)
(setq codecomp-command (append (json-read-from-string (getenv "CODECOMP_TEST_CMD")) nil)
      codecomp-model (getenv "CODECOMP_TEST_MODEL")
      codecomp-settings '(:maxNewTokens 24 :candidates 3 :timeBudgetMs 10000))
(codecomp-setup)
(setq eglot-sync-connect 30
      eglot-autoshutdown nil)

(defvar ct-server nil)

(defun ct-line-col ()
  (list (cons "line" (1- (line-number-at-pos))) (cons "column" (current-column))))

(find-file (getenv "CODECOMP_TEST_FILE"))

(ct-step "ready"
  (apply #'eglot (eglot--guess-contact))
  (setq ct-server (ct-wait #'eglot-current-server 30))
  (unless ct-server (error "eglot did not connect within 30 s"))
  (let ((stats (ct-wait (lambda ()
                          (let ((s (jsonrpc-request ct-server :codecomp/stats
                                                    codecomp--empty-object)))
                            (and (member (plist-get s :modelState) '("ready" "failed")) s)))
                        60)))
    (unless stats (error "the model did not load within 60 s"))
    (list (cons "major_mode" (symbol-name major-mode))
          (cons "managed" (and (eglot-managed-p) t))
          (cons "model_state" (plist-get stats :modelState))
          (cons "model" (plist-get stats :model))
          (cons "device" (plist-get stats :device))
          (cons "inline_provider"
                (and (plist-member (eglot--capabilities ct-server) :inlineCompletionProvider)
                     t)))))

(when ct-server
  ;; Type at the end of the last line: "    total" -> "    total = ".
  (goto-char (point-max))
  (skip-chars-backward "\n")
  (insert " = ")

  (ct-step "jsonrpc_inline"
    (eglot--signal-textDocument/didChange)
    (let* ((result (jsonrpc-request
                    ct-server :textDocument/inlineCompletion
                    (append (eglot--TextDocumentPositionParams)
                            (list :context (list :triggerKind 1)))))
           (items (append (plist-get result :items) nil)))
      (append
       (list (cons "count" (length items))
             (cons "texts" (mapcar (lambda (item) (plist-get item :insertText)) items))
             (cons "ranges" (mapcar (lambda (item)
                                      (let ((start (plist-get (plist-get item :range) :start)))
                                        (list (plist-get start :line)
                                              (plist-get start :character))))
                                    items)))
       (ct-line-col))))

  (ct-step "suggest_accept"
    (let* ((before (buffer-substring-no-properties (point-min) (point-max)))
           (offset (1- (point)))
           (text (codecomp-suggest))
           (shown (codecomp-current))
           (overlay-text (and codecomp--overlay
                              (substring-no-properties
                               (overlay-get codecomp--overlay 'after-string))))
           (accepted (codecomp-accept))
           (after (buffer-substring-no-properties (point-min) (point-max))))
      (list (cons "suggestion" text)
            (cons "shown" shown)
            (cons "overlay" overlay-text)
            (cons "accepted" accepted)
            (cons "offset" offset)
            (cons "point_after" (1- (point)))
            (cons "overlay_after" (and codecomp--overlay (overlay-buffer codecomp--overlay) t))
            (cons "before" before)
            (cons "after" after))))

  (ct-step "auto_request"
    ;; What `codecomp-auto-mode' does after an edit: an asynchronous request, then the overlay.
    (end-of-line)
    (insert "\n    count = ")
    (codecomp-auto-mode 1)
    (codecomp--auto-request (current-buffer))
    (let ((sent (and codecomp--pending t))
          (answered (ct-wait (lambda () (null codecomp--pending)) 20)))
      (list (cons "sent" sent)
            (cons "answered" (and answered t))
            (cons "shown" (codecomp-current))
            (cons "overlay_at_point" (and codecomp--overlay
                                          (= (overlay-start codecomp--overlay) (point))
                                          t)))))

  (ct-step "generate_tests"
    ;; A code action that writes another file, run as the command it is listed with.
    (goto-char (point-min))
    (search-forward "result = []")
    (eglot--signal-textDocument/didChange)
    (let* ((here (eglot--pos-to-lsp-position))
           (actions (append (jsonrpc-request
                             ct-server :textDocument/codeAction
                             (list :textDocument (eglot--TextDocumentIdentifier)
                                   :range (list :start here :end here)
                                   :context (list :diagnostics []
                                                  :only ["refactor.rewrite.tests"])))
                            nil))
           (action (seq-find (lambda (a) (string-prefix-p "Generate tests" (plist-get a :title)))
                             actions))
           (command (and action (plist-get action :command)))
           (result (and command
                        (jsonrpc-request ct-server :workspace/executeCommand
                                         (list :command (plist-get command :command)
                                               :arguments (plist-get command :arguments))
                                         :timeout 60))))
      (list (cons "titles" (mapcar (lambda (a) (plist-get a :title)) actions))
            (cons "applied" (and result (eq (plist-get result :applied) t)))
            (cons "uri" (and result (plist-get result :uri)))
            (cons "text" (and result (plist-get result :text)))
            (cons "message" (and result (plist-get result :message)))
            (cons "alive" (and (jsonrpc-running-p ct-server) t)))))

  (ct-step "completion"
    (goto-char (point-max))
    (insert "result = list_files(")
    (eglot--signal-textDocument/didChange)
    (let* ((result (jsonrpc-request ct-server :textDocument/completion
                                    (append (eglot--TextDocumentPositionParams)
                                            (list :context (list :triggerKind 1)))))
           (items (append (if (vectorp result) result (plist-get result :items)) nil)))
      (list (cons "count" (length items))
            (cons "labels" (mapcar (lambda (item) (plist-get item :label)) items)))))

  (ct-step "stats"
    (let* ((stats (codecomp-stats))
           (acceptance (plist-get stats :acceptance)))
      (list (cons "requests" (plist-get stats :requests))
            (cons "shown" (plist-get acceptance :shown))
            (cons "accepted" (plist-get acceptance :accepted))
            (cons "accepted_full" (plist-get (plist-get acceptance :acceptedByKind) :full))
            (cons "accepted_chars" (plist-get acceptance :acceptedChars))
            (cons "errors" (plist-get stats :errors))
            (cons "settings_max_new_tokens"
                  (plist-get (plist-get stats :settings) :maxNewTokens)))))

  (ct-step "shutdown"
    (let ((process (jsonrpc--process ct-server)))
      (eglot-shutdown ct-server)
      (list (cons "exited" (and (ct-wait (lambda () (not (process-live-p process))) 10) t))))))

(ct-emit '(("step" . "done")))
(kill-emacs 0)

;;; emacs_driver.el ends here
